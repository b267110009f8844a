//! Registries: where images live, with the credentials to pull them.

use diesel::prelude::*;

use crate::error::{QueryContext, Result};
use crate::models::secret::Sealed;
use crate::pool::Store;
use crate::schema::registries;

/// A registry row. The password is sealed; there is no `Serialize`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = registries)]
pub struct Registry {
    /// Row id.
    pub id: i64,
    /// Unique name the projects refer to.
    pub name: String,
    /// Base URL, such as `https://git.example.com`.
    pub url: String,
    /// User for Basic or token authentication.
    pub username: Option<String>,
    /// Password or token, sealed.
    pub password: Option<Sealed>,
    /// The environment variable the password came from.
    pub password_env: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

impl Store {
    /// All registries, by name.
    pub fn registries(&self) -> Result<Vec<Registry>> {
        registries::table
            .order(registries::name)
            .select(Registry::as_select())
            .load(&mut self.conn()?)
            .context("listing registries")
    }

    /// One registry by id.
    pub fn registry(&self, id: i64) -> Result<Registry> {
        registries::table
            .find(id)
            .select(Registry::as_select())
            .first(&mut self.conn()?)
            .or_not_found(|| format!("registry {id}"))
    }
}
