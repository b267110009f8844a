//! Row types and their queries, one table per file.

pub mod configuration;
pub mod container_settings;
pub mod deploy;
pub mod deploy_log;
pub mod deploy_step;
pub mod image_retention;
pub mod instance;
pub mod notice_outbox;
pub mod notification;
pub mod poll_state;
pub mod project;
pub mod registry;
pub mod secret;
pub mod secret_env;
mod secret_maintenance;
pub mod settings;
pub mod stage;
mod text_enum;
