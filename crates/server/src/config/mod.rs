//! The YAML configuration file that seeds an empty database: reading it and checking it.

mod duration;
mod raw;
mod validate;

use std::path::Path;

pub use validate::Problem;

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML or does not have the expected shape (unknown keys included).
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's explanation, with the line.
        message: String,
    },
    /// The values are wrong; every problem is listed.
    #[error("{path} has {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: String,
        /// Each problem with its key path.
        problems: Vec<Problem>,
    },
}

/// Reads and checks a configuration file.
pub fn load(path: &Path, now_ms: i64) -> Result<store::NewConfiguration, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(
        &text,
        &path.display().to_string(),
        &|name| std::env::var(name).ok(),
        now_ms,
    )
}

/// The configuration used when there is no file: defaults and no projects.
pub fn defaults(now_ms: i64) -> store::NewConfiguration {
    let checked = validate::validate(&raw::RawConfig::default(), &|_| None, now_ms);
    checked.expect("the default configuration is valid")
}

/// Parses and checks configuration text; `origin` names it in messages.
pub fn parse(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
    now_ms: i64,
) -> Result<store::NewConfiguration, ConfigError> {
    // An empty file is an empty mapping, not an error.
    let raw: raw::RawConfig = if text.trim().is_empty() {
        raw::RawConfig::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|error| ConfigError::Syntax {
            path: origin.to_string(),
            message: error.to_string(),
        })?
    };
    validate::validate(&raw, env, now_ms).map_err(|problems| ConfigError::Invalid {
        path: origin.to_string(),
        problems,
    })
}

#[cfg(test)]
mod tests;
