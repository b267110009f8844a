//! Registries: where images live, with the credentials to pull them.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use crate::error::{QueryContext, Result};
use crate::models::configuration::{NewRegistry, Seal};
use crate::models::secret::{PlainSecret, Sealed, SecretPlace, columns};
use crate::pool::{Store, now_ms};
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

/// What to do with a stored secret when a record is updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretChange {
    /// Leave it as it is (the field was absent).
    Keep,
    /// Remove it (the field was `null`).
    Clear,
    /// Replace it.
    Set(PlainSecret),
}

/// The changes of a registry update; `None` fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryChanges {
    /// New name.
    pub name: Option<String>,
    /// New URL.
    pub url: Option<String>,
    /// New user name (`Some(None)` removes it).
    pub username: Option<Option<String>>,
    /// What happens to the password.
    pub password: SecretChange,
}

impl Store {
    /// Adds a registry, sealing its password for the new row.
    pub fn create_registry(&self, new: &NewRegistry, seal: Seal<'_>) -> Result<Registry> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let id = insert_registry(conn, new, seal)?;
            registries::table
                .find(id)
                .select(Registry::as_select())
                .first(conn)
                .context("reading a new registry")
        })
    }

    /// Changes a registry; the password changes only as `changes.password` says.
    pub fn update_registry(
        &self,
        id: i64,
        changes: &RegistryChanges,
        seal: Seal<'_>,
    ) -> Result<Registry> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let current: Registry = registries::table
                .find(id)
                .select(Registry::as_select())
                .first(conn)
                .or_not_found(|| format!("registry {id}"))?;
            let password = match &changes.password {
                SecretChange::Keep => current.password.clone(),
                SecretChange::Clear => None,
                SecretChange::Set(value) => Some(seal(
                    SecretPlace::new(columns::REGISTRY_PASSWORD, id),
                    value,
                )),
            };
            let password_env = match &changes.password {
                SecretChange::Keep => current.password_env.clone(),
                // A value given through the API did not come from an environment variable.
                SecretChange::Clear | SecretChange::Set(_) => None,
            };
            diesel::update(registries::table.find(id))
                .set((
                    registries::name.eq(changes.name.as_ref().unwrap_or(&current.name)),
                    registries::url.eq(changes.url.as_ref().unwrap_or(&current.url)),
                    registries::username.eq(changes.username.clone().unwrap_or(current.username)),
                    registries::password.eq(password),
                    registries::password_env.eq(password_env),
                ))
                .execute(conn)
                .context("updating a registry")?;
            registries::table
                .find(id)
                .select(Registry::as_select())
                .first(conn)
                .context("reading an updated registry")
        })
    }

    /// Removes a registry; refused (`Conflict`) while a project uses it.
    pub fn delete_registry(&self, id: i64) -> Result<()> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let users: Vec<String> = crate::schema::projects::table
                .filter(crate::schema::projects::registry_id.eq(id))
                .select(crate::schema::projects::name)
                .order(crate::schema::projects::name)
                .load(conn)
                .context("finding the projects of a registry")?;
            if !users.is_empty() {
                // Said here rather than left to the foreign key, whose message names no project.
                return Err(crate::error::StoreError::Conflict {
                    what: format!("removing registry {id}"),
                    message: format!("used by project(s) {}", users.join(", ")),
                });
            }
            let deleted = diesel::delete(registries::table.find(id))
                .execute(conn)
                .context("removing a registry")?;
            if deleted == 0 {
                return Err(crate::error::StoreError::NotFound {
                    what: format!("registry {id}"),
                });
            }
            Ok(())
        })
    }
}

/// Inserts a registry and seals its password for the new row; returns the row id.
pub(crate) fn insert_registry(
    conn: &mut SqliteConnection,
    new: &NewRegistry,
    seal: Seal<'_>,
) -> Result<i64> {
    let id: i64 = diesel::insert_into(registries::table)
        .values((
            registries::name.eq(&new.name),
            registries::url.eq(&new.url),
            registries::username.eq(&new.username),
            registries::password_env.eq(new.password.as_ref().and_then(|p| p.env.as_ref())),
            registries::created_at.eq(now_ms()),
        ))
        .returning(registries::id)
        .get_result(conn)
        .context("writing a registry")?;
    // The row id is part of the ciphertext, so the secret is sealed once the row exists.
    if let Some(password) = &new.password {
        let sealed = seal(
            SecretPlace::new(columns::REGISTRY_PASSWORD, id),
            &password.value,
        );
        diesel::update(registries::table.find(id))
            .set(registries::password.eq(sealed))
            .execute(conn)
            .context("writing a registry password")?;
    }
    Ok(id)
}
