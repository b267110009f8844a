//! `cargo xtask testbed stop`: stops the services `cargo xtask testbed` started, and only those.
//!
//! Each service it starts leaves a pid file beside its log. Stopping checks that the pid still
//! belongs to that program before signalling it, so a stale file (after a reboot, say) never
//! kills an unrelated process that reused the number. A Docker engine that was already running
//! when the testbed came up has no pid file and is left alone.

use std::{
    fs,
    path::Path,
    process::{Child, Command},
    thread,
    time::{Duration, Instant},
};

use crate::Result;

/// The pid file a started service leaves in its folder.
pub const PID_FILE: &str = "pid";
/// How long a service gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// Bytes of a command name the kernel keeps (`TASK_COMM_LEN` less its terminating zero).
const COMM_MAX: usize = 15;

/// What [`stop_recorded`] found and did.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// No pid file: nothing of ours to stop.
    NotStarted,
    /// The recorded process was gone, or is now another program; the file was removed.
    Stale,
    /// The process exited after SIGTERM.
    Terminated,
    /// The process ignored SIGTERM for [`STOP_GRACE`] and was killed.
    Killed,
}

/// Stops every service of the testbed in `dir` (`target/testbed`), the engine last so that the
/// registries do not outlive it by accident of order.
pub fn stop(dir: &Path) -> Result<()> {
    let services = [
        ("registry", dir.join("registry"), "docker-registry"),
        (
            "auth registry",
            dir.join("auth-registry"),
            "docker-registry",
        ),
        ("docker", dir.join("dockerd"), "dockerd"),
    ];
    for (name, folder, program) in services {
        let outcome = stop_recorded(&folder, program)?;
        let said = match outcome {
            Stopped::NotStarted => "not started by the testbed, left alone",
            Stopped::Stale => "already stopped",
            Stopped::Terminated => "stopped",
            Stopped::Killed => "killed (it ignored SIGTERM)",
        };
        println!("{name}: {said}");
        // The port is meaningless once nothing answers on it.
        let _ = fs::remove_file(folder.join("port"));
    }
    Ok(())
}

/// Writes `child`'s pid to `folder`'s pid file, once the service is known to be ready.
pub fn record(folder: &Path, child: &Child) -> Result<()> {
    fs::create_dir_all(folder)?;
    let path = folder.join(PID_FILE);
    fs::write(&path, format!("{}\n", child.id()))
        .map_err(|err| format!("cannot write {}: {err}", path.display()).into())
}

/// Stops the process recorded in `folder`'s pid file when it is still `program`, and removes
/// the file.
pub fn stop_recorded(folder: &Path, program: &str) -> Result<Stopped> {
    let path = folder.join(PID_FILE);
    let Ok(text) = fs::read_to_string(&path) else {
        return Ok(Stopped::NotStarted);
    };
    let pid: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("{} does not hold a process id: {text:?}", path.display()))?;
    let outcome = if runs(pid, program) {
        signal(pid, "TERM")?;
        let deadline = Instant::now() + STOP_GRACE;
        loop {
            if !runs(pid, program) {
                break Stopped::Terminated;
            }
            if Instant::now() >= deadline {
                signal(pid, "KILL")?;
                break Stopped::Killed;
            }
            thread::sleep(Duration::from_millis(100));
        }
    } else {
        Stopped::Stale
    };
    fs::remove_file(&path).map_err(|err| format!("cannot remove {}: {err}", path.display()))?;
    Ok(outcome)
}

/// Whether process `pid` is alive and runs `program`. The kernel's command name is read, not
/// the command line: the latter is briefly empty right after exec. A zombie counts as gone: it
/// has exited and only waits for its parent.
fn runs(pid: u32, program: &str) -> bool {
    let Ok(stat) = fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")) else {
        return false;
    };
    // `PID (NAME) STATE ...`; the name may itself hold spaces and parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let name = &stat[open + 1..close];
    let zombie = stat[close + 1..].trim_start().starts_with('Z');
    // The kernel keeps at most 15 bytes of the name.
    let expected = &program.as_bytes()[..program.len().min(COMM_MAX)];
    !zombie && name.as_bytes() == expected
}

/// Sends `signal` with kill(1): xtask stays on std, which has no way to send SIGTERM.
fn signal(pid: u32, signal: &str) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill -{signal} {pid} failed ({status})").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    /// A fresh folder for one test (std only, like the rest of xtask).
    fn folder(name: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("xtask-stop-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        path
    }

    fn sleeper() -> Child {
        Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .expect("start sleep")
    }

    #[test]
    fn a_recorded_service_is_terminated_and_its_file_removed() {
        let folder = folder("terminated");
        let mut child = sleeper();
        record(folder.as_path(), &child).unwrap();
        // Reaped by a thread, as the service's real parent (init) would, so it does not linger
        // as a zombie.
        let reaper = thread::spawn(move || child.wait());
        assert_eq!(
            stop_recorded(folder.as_path(), "sleep").unwrap(),
            Stopped::Terminated
        );
        assert!(!reaper.join().unwrap().unwrap().success());
        assert!(!folder.as_path().join(PID_FILE).exists());
    }

    #[test]
    fn a_pid_now_running_another_program_is_left_alone() {
        let folder = folder("other");
        let mut child = sleeper();
        record(folder.as_path(), &child).unwrap();
        assert_eq!(
            stop_recorded(folder.as_path(), "docker-registry").unwrap(),
            Stopped::Stale
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "an unrelated process was signalled"
        );
        assert!(!folder.as_path().join(PID_FILE).exists());
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn no_pid_file_means_nothing_to_stop_and_garbage_is_an_error() {
        let folder = folder("none");
        assert_eq!(
            stop_recorded(folder.as_path(), "dockerd").unwrap(),
            Stopped::NotStarted
        );
        fs::write(folder.as_path().join(PID_FILE), "not a number").unwrap();
        let error = stop_recorded(folder.as_path(), "dockerd").unwrap_err();
        assert!(
            error.to_string().contains("does not hold a process id"),
            "{error}"
        );
    }
}
