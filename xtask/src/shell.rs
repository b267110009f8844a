//! Running external commands so that every failure names the exact command line.

use std::{
    ffi::OsStr,
    fs::File,
    io,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
};

use crate::Result;

/// The command as one could paste it into a shell, with explicitly set variables and
/// the working directory.
pub fn cmdline(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            parts.push(format!("{}={}", quote(key), quote(value)));
        }
    }
    parts.push(quote(cmd.get_program()));
    parts.extend(cmd.get_args().map(quote));
    let mut line = parts.join(" ");
    if let Some(dir) = cmd.get_current_dir() {
        line.push_str(&format!("  (in {})", dir.display()));
    }
    line
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@+%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Echoes the command, then runs it with its output streaming to ours.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("$ {}", cmdline(cmd));
    let status = cmd.status().map_err(|err| spawn_error(cmd, err))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", cmdline(cmd)).into())
    }
}

/// Runs the command quietly and returns its stdout; on failure the error carries all
/// of its output, since nothing was shown.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|err| spawn_error(cmd, err))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(format!(
        "`{}` failed ({}):\n{}{}",
        cmdline(cmd),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
    .into())
}

/// Whether the command exits successfully; for probes, so all output is discarded.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Starts a service that must outlive xtask.
///
/// Its own process group keeps Ctrl-C at our terminal from reaching it, and with no
/// inherited stdio it holds no pipe open (a CI step waiting on our output would hang).
pub fn spawn_detached(cmd: &mut Command, log: &Path) -> Result<Child> {
    let log_file =
        File::create(log).map_err(|err| format!("cannot create {}: {err}", log.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .process_group(0);
    println!("$ {}  > {} 2>&1 &", cmdline(cmd), log.display());
    cmd.spawn().map_err(|err| spawn_error(cmd, err))
}

fn spawn_error(cmd: &Command, err: io::Error) -> Box<dyn std::error::Error> {
    let program = cmd.get_program().to_string_lossy();
    if err.kind() == io::ErrorKind::NotFound {
        format!("cannot run `{}`: `{program}` is not on PATH", cmdline(cmd)).into()
    } else {
        format!("cannot run `{}`: {err}", cmdline(cmd)).into()
    }
}
