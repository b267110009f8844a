//! `cargo xtask test`: every check CI runs, in order, stopping at the first failure.

use std::{env, path::Path, process::Command};

use crate::{Result, dist, shell, testbed};

/// `cargo_test_args` are appended to `cargo test --workspace` (filters, `-- --nocapture`, ...).
pub fn run(root: &Path, cargo_test_args: &[String]) -> Result<()> {
    let env = step("testbed", || testbed::ensure(root))?;
    step("frontend", || dist::frontend(root))?;
    step("frontend check", || {
        shell::run(
            Command::new("npm")
                .args(["run", "check"])
                .current_dir(root.join("frontend")),
        )
    })?;
    step("fmt", || {
        shell::run(cargo(root).args(["fmt", "--all", "--", "--check"]))
    })?;
    step("clippy", || {
        // All features: xtask's benches are only compiled with its `bench` feature.
        shell::run(cargo(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step("cargo test", || {
        let mut cmd = cargo(root);
        cmd.args(["test", "--workspace"]).args(cargo_test_args);
        cmd.envs(env);
        // Inherited anyway; set explicitly so the echoed command line shows it too.
        if let Some(ci) = env::var_os("CI") {
            cmd.env("CI", ci);
        }
        shell::run(&mut cmd)
    })?;
    println!("\n==> all checks passed");
    Ok(())
}

fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("\n==> {name}");
    f().map_err(|err| format!("step `{name}` failed: {err}").into())
}

fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root);
    cmd
}
