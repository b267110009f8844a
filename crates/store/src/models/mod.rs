//! Row types and their queries, one table per file.

pub mod configuration;
pub mod deploy;
pub mod deploy_log;
pub mod instance;
pub mod project;
pub mod settings;
pub mod stage;
mod text_enum;
