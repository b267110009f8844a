//! `docker-watcher seed import|export`: the YAML configuration in and out of the database.

use std::path::Path;

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
