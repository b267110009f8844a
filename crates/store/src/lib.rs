//! The database: SQLite through diesel and an r2d2 pool, with the schema's migrations embedded.
//!
//! Owns: the tables (configuration, instances, deploys with their logs and steps, poll state), their row types
//! and every query. Secret columns hold only ciphertext sealed by the caller ([`Sealed`]); the
//! store never sees a key. Each pooled connection gets WAL, foreign keys and a busy timeout; read-then-write
//! operations run in immediate transactions.
//!
//! Does not own: what the rows mean for a deploy (that is `deployer`), HTTP shapes (that is `api`),
//! or talking to Docker. All calls block: async callers use `spawn_blocking` or `web::block`.

mod error;
mod models;
mod pool;
mod schema;

pub use error::{Result, StoreError};
pub use models::configuration::{
    NewConfiguration, NewNotification, NewNpmSettings, NewProjectWithStages, NewRegistry,
    NewSettings, Seal,
};
pub use models::container_settings::ContainerSettings;
pub use models::deploy::{Decision, Deploy, DeployStatus, DeployView, NewDeploy, Trigger};
pub use models::deploy_log::LogLine;
pub use models::deploy_step::{DeployStep, StepOutcome};
pub use models::image_retention::ImageRetention;
pub use models::instance::{Instance, InstanceStatus, InstanceView, NewInstance};
pub use models::notice_outbox::PendingNotice;
pub use models::notification::Notification;
pub use models::poll_state::PollState;
pub use models::project::{NewProject, Project};
pub use models::registry::{Registry, RegistryChanges, SecretChange};
pub use models::secret::{
    PlainSecret, Sealed, SecretInput, SecretPlace, columns as secret_columns,
};
pub use models::secret_env::SecretEnvVar;
pub use models::settings::Settings;
pub use models::stage::{NewStage, Stage};
pub use pool::{Store, now_ms};
