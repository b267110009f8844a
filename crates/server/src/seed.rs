//! The YAML configuration in and out of the database: `docker-watcher seed import|export`, and
//! the seed a first `serve` imports.

use std::path::{Path, PathBuf};

use crate::cli::DEFAULT_CONFIG;
use crate::config;
use crate::data::{self, Data};

/// Imports `file` into the empty database of `data_dir`.
pub fn import(file: &Path, data_dir: &Path) -> Result<(), String> {
    // Read and checked before the data folder is opened, so a bad file creates nothing.
    let configuration = config::load(file, store::now_ms()).map_err(|error| error.to_string())?;
    let data = data::open(data_dir, data::Use::Create)?;
    if data
        .store
        .is_configured()
        .map_err(|error| error.to_string())?
    {
        return Err(format!(
            "the database in {} already holds a configuration; import needs an empty one",
            data_dir.display()
        ));
    }
    import_checked(&data, &configuration)?;
    eprintln!(
        "imported {} project(s), {} registry(ies) and {} notification target(s) from {}",
        configuration.projects.len(),
        configuration.registries.len(),
        configuration.notifications.len(),
        file.display()
    );
    Ok(())
}

/// Writes the configuration of `data_dir` as YAML to `output`, or to standard output.
pub fn export(data_dir: &Path, output: Option<&Path>) -> Result<(), String> {
    let data = data::open(data_dir, data::Use::Read)?;
    data.check_key()?;
    let text = config::export(&data.store).map_err(|error| error.to_string())?;
    match output {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(path) => std::fs::write(path, text)
            .map_err(|error| format!("cannot write {}: {error}", path.display())),
    }
}

/// Writes a checked configuration, sealing each secret for its row.
pub fn import_checked(data: &Data, configuration: &store::NewConfiguration) -> Result<(), String> {
    data.store
        .import_configuration(configuration, &|place, value| {
            data.secrets.seal(place, value)
        })
        .map_err(|error| format!("cannot import the configuration: {error}"))
}

/// Imports the seed into an empty database (`seed`, when it was read already); a configured
/// database ignores the configuration file.
pub fn import_if_empty(
    data: &Data,
    config_path: Option<&Path>,
    seed: Option<store::NewConfiguration>,
) -> Result<(), String> {
    let configured = data
        .store
        .is_configured()
        .map_err(|error| error.to_string())?;
    if configured {
        let path = seed_path(config_path).0;
        if path.exists() {
            log::info!(
                "the database already holds a configuration; {} is not imported again",
                path.display()
            );
        }
        return Ok(());
    }
    let configuration = match seed {
        Some(configuration) => configuration,
        None => read(config_path)?,
    };
    import_checked(data, &configuration)?;
    log::info!(
        "imported {} project(s) and {} registry(ies)",
        configuration.projects.len(),
        configuration.registries.len()
    );
    Ok(())
}

/// The configuration file to seed from, and whether it was named (a named file must exist).
fn seed_path(config_path: Option<&Path>) -> (PathBuf, bool) {
    match config_path {
        Some(path) => (path.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG), false),
    }
}

/// The seed for an empty database: the named file, else the default file when it exists,
/// else defaults with no projects.
pub fn read(config_path: Option<&Path>) -> Result<store::NewConfiguration, String> {
    let (path, explicit) = seed_path(config_path);
    if path.exists() || explicit {
        log::info!("importing {}", path.display());
        config::load(&path, store::now_ms()).map_err(|error| error.to_string())
    } else {
        log::info!(
            "no configuration file at {}; starting with defaults and no projects",
            path.display()
        );
        Ok(config::defaults(store::now_ms()))
    }
}
