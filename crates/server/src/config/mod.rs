//! The YAML configuration file that seeds an empty database: reading it and checking it.

mod duration;
#[allow(
    dead_code,
    reason = "the export command that calls it is not wired up yet"
)]
mod export;
mod raw;
mod validate;
mod yaml;

use std::path::Path;

#[allow(
    unused_imports,
    reason = "the export command that calls it is not wired up yet"
)]
pub use export::{ExportError, export};
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
    /// The file is not valid YAML.
    #[error("{path}: line {line}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// Where the parser stopped (1-based).
        line: usize,
        /// The parser's explanation.
        message: String,
    },
    /// Keys or values are wrong (unknown keys, wrong types, bad values); every problem is listed,
    /// one per line, with its line number and key path.
    #[error("{path} has {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: String,
        /// Each problem with its key path and line, in file order.
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
    let (root, shape) = yaml::parse(text).map_err(|error| ConfigError::Syntax {
        path: origin.to_string(),
        line: error.line,
        message: error.message,
    })?;
    let mut reader = raw::Reader::default();
    reader
        .problems
        .extend(shape.into_iter().map(|problem| Problem {
            path: problem.path,
            line: Some(problem.line),
            message: problem.message,
        }));
    // An empty file (or `~`) is an empty mapping, not an error.
    let raw = reader.config(root.as_ref().filter(|root| !root.is_null()));
    let mut problems = reader.problems;
    let checked = validate::validate(&raw, env, now_ms);
    if let Err(value_problems) = &checked {
        for mut problem in value_problems.iter().cloned() {
            // A value that had the wrong type is already reported at this path.
            if problems.iter().any(|known| known.path == problem.path) {
                continue;
            }
            problem.line = line_of(&reader.lines, &problem.path);
            problems.push(problem);
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|problem| problem.line.unwrap_or(usize::MAX));
        return Err(ConfigError::Invalid {
            path: origin.to_string(),
            problems,
        });
    }
    checked.map_err(|problems| ConfigError::Invalid {
        path: origin.to_string(),
        problems,
    })
}

/// The line of a key path, or of its nearest enclosing key when the key itself is absent.
fn line_of(lines: &std::collections::HashMap<String, usize>, path: &str) -> Option<usize> {
    let mut path = path;
    loop {
        if let Some(line) = lines.get(path) {
            return Some(*line);
        }
        let cut = path.rfind(['.', '['])?;
        path = &path[..cut];
    }
}

#[cfg(test)]
mod tests;
