//! A project's secret environment variables, one sealed value per row.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::models::secret::Sealed;
use crate::pool::Store;
use crate::schema::project_secret_env;

/// One secret environment variable of a project.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = project_secret_env)]
pub struct SecretEnvVar {
    /// Row id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The variable's name inside the container.
    pub name: String,
    /// Its value, sealed.
    pub value: Sealed,
    /// The environment variable of this server the value came from.
    pub value_env: Option<String>,
}

impl Store {
    /// A project's secret environment variables, by name.
    pub fn secret_env_of(&self, project_id: i64) -> Result<Vec<SecretEnvVar>> {
        project_secret_env::table
            .filter(project_secret_env::project_id.eq(project_id))
            .order(project_secret_env::name)
            .select(SecretEnvVar::as_select())
            .load(&mut self.conn()?)
            .context("listing secret environment variables")
    }
}
