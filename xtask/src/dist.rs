//! `cargo xtask dist`: the release binary, with the frontend embedded in it.

use std::{path::Path, process::Command};

use crate::{Result, shell};

pub fn run(root: &Path) -> Result<()> {
    frontend(root)?;
    shell::run(
        Command::new("cargo")
            .args(["build", "--release", "-p", "server"])
            .current_dir(root),
    )?;
    let binary = crate::target_dir(root).join("release/docker-watcher");
    if !binary.is_file() {
        return Err(format!("the build succeeded but {} is missing", binary.display()).into());
    }
    println!("{}", binary.display());
    Ok(())
}

/// Builds `frontend/build`, which the server embeds at compile time; this also leaves
/// `frontend/node_modules` in place for the browser tests.
pub fn frontend(root: &Path) -> Result<()> {
    let dir = root.join("frontend");
    if !dir.join("package.json").is_file() {
        return Err(format!("{} has no package.json", dir.display()).into());
    }
    // Checked up front because a missing npm would otherwise surface as a bare
    // "not found" halfway through.
    if !shell::succeeds(Command::new("npm").arg("--version")) {
        return Err(
            "npm is not installed (or not on PATH); install Node.js with npm to build \
                    the frontend"
                .into(),
        );
    }
    shell::run(Command::new("npm").arg("ci").current_dir(&dir))?;
    shell::run(Command::new("npm").args(["run", "build"]).current_dir(&dir))
}
