//! The written forms of container settings that the engine is given: restart policies
//! (`unless-stopped`, `on-failure:3`), volume mounts (`data:/data`, `/srv/app:/srv:ro`) and
//! stop signals (`SIGTERM`).
//!
//! Parsing lives here, next to the code that hands the values to the engine, so a configuration
//! checked with these parsers is exactly what a container can be created with.

use std::fmt;

/// What the engine does when a container's main process exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    /// Never restart (the engine's default).
    #[default]
    No,
    /// Always restart, also when the engine itself restarts, even after a manual stop.
    Always,
    /// Like `Always`, except after the container was stopped on purpose (`docker stop`).
    UnlessStopped,
    /// Restart only after a non-zero exit; at most `max_retries` times when given.
    OnFailure {
        /// `None`: no limit.
        max_retries: Option<u32>,
    },
}

impl RestartPolicy {
    /// Reads `no`, `always`, `unless-stopped`, `on-failure` or `on-failure:N` (N at least 1).
    pub fn parse(text: &str) -> Result<RestartPolicy, String> {
        let invalid = || {
            format!(
                "{text:?} is not a restart policy: write no, always, unless-stopped, on-failure or on-failure:N (N retries, at least 1)"
            )
        };
        match text {
            "no" => Ok(RestartPolicy::No),
            "always" => Ok(RestartPolicy::Always),
            "unless-stopped" => Ok(RestartPolicy::UnlessStopped),
            "on-failure" => Ok(RestartPolicy::OnFailure { max_retries: None }),
            other => {
                let count = other.strip_prefix("on-failure:").ok_or_else(invalid)?;
                if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                match count.parse::<u32>() {
                    Ok(0) | Err(_) => Err(invalid()),
                    Ok(retries) => Ok(RestartPolicy::OnFailure {
                        max_retries: Some(retries),
                    }),
                }
            }
        }
    }

    /// The engine's name of the policy (`on-failure` without its count).
    pub fn name(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
            RestartPolicy::OnFailure { .. } => "on-failure",
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::OnFailure {
                max_retries: Some(retries),
            } => write!(f, "on-failure:{retries}"),
            policy => f.write_str(policy.name()),
        }
    }
}

/// One volume mounted into a container: a named volume (created by the engine when missing) or
/// a host path, at an absolute path inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    /// A volume name (`shop-data`) or an absolute host path (`/srv/shop`).
    pub source: String,
    /// The absolute path inside the container, without a trailing `/`.
    pub target: String,
    pub read_only: bool,
}

impl VolumeMount {
    /// Reads `name:/path` or `/host/path:/path`, optionally ending in `:ro` or `:rw`.
    pub fn parse(text: &str) -> Result<VolumeMount, String> {
        let invalid = |why: &str| {
            format!(
                "invalid volume {text:?}: {why}write name:/path or /host/path:/path, optionally ending in :ro or :rw"
            )
        };
        let parts: Vec<&str> = text.split(':').collect();
        let (source, target, read_only) = match parts.as_slice() {
            [source, target] => (*source, *target, false),
            [source, target, "ro"] => (*source, *target, true),
            [source, target, "rw"] => (*source, *target, false),
            _ => return Err(invalid("")),
        };
        let source_ok = if source.starts_with('/') {
            !source.contains(char::is_whitespace)
        } else {
            // The engine's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+
            source.len() >= 2
                && source.starts_with(|c: char| c.is_ascii_alphanumeric())
                && source
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        };
        if !source_ok {
            return Err(invalid(
                "a volume name is 2 or more letters, digits, '_', '.' or '-' and a host path starts with '/'; ",
            ));
        }
        if !target.starts_with('/') || target.contains(char::is_whitespace) {
            return Err(invalid("the path inside the container must be absolute; "));
        }
        let trimmed = target.trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(invalid(
                "nothing can be mounted over the container's root; ",
            ));
        }
        Ok(VolumeMount {
            source: source.to_owned(),
            target: trimmed.to_owned(),
            read_only,
        })
    }

    /// Whether the source is a host path rather than a named volume.
    pub fn is_host_path(&self) -> bool {
        self.source.starts_with('/')
    }
}

/// `source:target`, with `:ro` when read-only: the form [`VolumeMount::parse`] reads and the
/// engine's `Binds` take.
impl fmt::Display for VolumeMount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.target)?;
        if self.read_only {
            f.write_str(":ro")?;
        }
        Ok(())
    }
}

/// The Linux signal names the engine knows, without their `SIG` prefix (`RTMIN+n` and
/// `RTMAX-n` are handled apart).
const SIGNALS: &[&str] = &[
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
];

/// Checks a stop signal the way the engine reads one (a name with or without `SIG`, in any case,
/// or a number from 1 to 64) and returns it as the engine writes it: `SIGTERM`, `SIGRTMIN+3`, `15`.
pub fn parse_stop_signal(text: &str) -> Result<String, String> {
    let invalid = || {
        format!(
            "{text:?} is not a signal: write a name such as SIGTERM, SIGINT or SIGQUIT, or a number from 1 to 64"
        )
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u8>() {
            Ok(number @ 1..=64) => Ok(number.to_string()),
            _ => Err(invalid()),
        };
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let realtime = |prefix: &str, sign: char| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(sign))
            .and_then(|offset| offset.parse::<u8>().ok())
            .is_some_and(|offset| (1..=15).contains(&offset) && !name.ends_with(['+', '-']))
    };
    if SIGNALS.contains(&name) || realtime("RTMIN", '+') || realtime("RTMAX", '-') {
        Ok(format!("SIG{name}"))
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies_read_and_write_the_same_text() {
        for (text, policy) in [
            ("no", RestartPolicy::No),
            ("always", RestartPolicy::Always),
            ("unless-stopped", RestartPolicy::UnlessStopped),
            ("on-failure", RestartPolicy::OnFailure { max_retries: None }),
            (
                "on-failure:5",
                RestartPolicy::OnFailure {
                    max_retries: Some(5),
                },
            ),
        ] {
            assert_eq!(RestartPolicy::parse(text), Ok(policy), "{text}");
            assert_eq!(policy.to_string(), text);
        }
        assert_eq!(RestartPolicy::default(), RestartPolicy::No);
    }

    #[test]
    fn anything_else_is_not_a_restart_policy() {
        for bad in [
            "",
            "yes",
            "Always",
            "unless_stopped",
            "on-failure:",
            "on-failure:0",
            "on-failure:-1",
            "on-failure:+3",
            "on-failure:3x",
            "on-failure:99999999999",
            "always:3",
        ] {
            let error = RestartPolicy::parse(bad).unwrap_err();
            assert!(
                error.contains("is not a restart policy") && error.contains("on-failure:N"),
                "{bad:?}: {error}"
            );
        }
    }

    #[test]
    fn stop_signals_are_written_as_the_engine_writes_them() {
        for (text, signal) in [
            ("SIGTERM", "SIGTERM"),
            ("sigint", "SIGINT"),
            ("QUIT", "SIGQUIT"),
            ("SIGUSR1", "SIGUSR1"),
            ("SIGRTMIN+3", "SIGRTMIN+3"),
            ("rtmax-1", "SIGRTMAX-1"),
            ("15", "15"),
        ] {
            assert_eq!(parse_stop_signal(text).as_deref(), Ok(signal), "{text}");
        }
        for bad in [
            "",
            "SIG",
            "TERMINATE",
            "SIGTERM ",
            "0",
            "65",
            "-15",
            "SIGRTMIN+",
            "SIGRTMIN+16",
            "SIGRTMIN-1",
            "SIGRTMAX+1",
            "SIGRTMIN+03x",
        ] {
            let error = parse_stop_signal(bad).unwrap_err();
            assert!(error.contains("is not a signal"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn volumes_are_named_or_host_paths_at_an_absolute_target() {
        let named = VolumeMount::parse("shop-data:/data").unwrap();
        assert_eq!(
            named,
            VolumeMount {
                source: "shop-data".into(),
                target: "/data".into(),
                read_only: false
            }
        );
        assert!(!named.is_host_path());
        let host = VolumeMount::parse("/srv/shop:/srv/:ro").unwrap();
        assert!(host.is_host_path() && host.read_only);
        assert_eq!(host.target, "/srv", "a trailing slash names the same path");
        assert_eq!(host.to_string(), "/srv/shop:/srv:ro");
        assert_eq!(
            VolumeMount::parse("data:/data:rw").unwrap().to_string(),
            "data:/data"
        );
    }

    #[test]
    fn malformed_volumes_are_refused_with_the_syntax() {
        for bad in [
            "nope",
            "data:rel",
            "a:/b:rx",
            "d:/data",
            "-data:/data",
            "my data:/data",
            "./data:/data",
            "data:/",
            "data:/data:ro:rw",
            ":/data",
        ] {
            let error = VolumeMount::parse(bad).unwrap_err();
            assert!(
                error.starts_with(&format!("invalid volume {bad:?}: "))
                    && error.ends_with("optionally ending in :ro or :rw"),
                "{bad:?}: {error}"
            );
        }
    }
}
