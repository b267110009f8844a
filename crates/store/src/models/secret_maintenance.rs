//! Work over every stored secret at once: checking that the key opens them, re-sealing them under
//! a new key, and sealing plaintext left by an older version.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use crate::error::{QueryContext, Result, StoreError};
use crate::models::configuration::Seal;
use crate::models::secret::{PlainSecret, Sealed, SecretPlace, columns};
use crate::pool::Store;
use crate::schema::{notifications, project_secret_env, registries, settings};

impl Store {
    /// Every stored secret with its place, in a stable order.
    pub fn sealed_secrets(&self) -> Result<Vec<(SecretPlace, Sealed)>> {
        let mut conn = self.conn()?;
        sealed_secrets(&mut conn)
    }

    /// Replaces every stored secret by what `reseal` makes of it, in one transaction: when
    /// `reseal` fails for any secret, nothing changes. Returns how many were re-sealed.
    pub fn reseal_all(
        &self,
        mut reseal: impl FnMut(SecretPlace, &Sealed) -> std::result::Result<Sealed, String>,
    ) -> Result<usize> {
        let mut conn = self.conn()?;
        conn.immediate_transaction(|conn| {
            let secrets = sealed_secrets(conn)?;
            for (place, sealed) in &secrets {
                let resealed = reseal(*place, sealed).map_err(|message| StoreError::Secret {
                    place: place.to_string(),
                    message,
                })?;
                write_sealed(conn, *place, &resealed)?;
            }
            Ok(secrets.len())
        })
    }

    /// Seals a webhook secret an older version stored in plaintext, and forgets the plaintext.
    /// Returns whether there was one.
    pub fn seal_legacy_secrets(&self, seal: Seal<'_>) -> Result<bool> {
        let mut conn = self.conn()?;
        let sealed = conn.immediate_transaction(|conn| -> Result<bool> {
            let legacy: Option<Option<String>> = settings::table
                .find(1)
                .select(settings::legacy_webhook_secret)
                .first(conn)
                .optional()
                .context("reading an old webhook secret")?;
            let Some(Some(plaintext)) = legacy else {
                return Ok(false);
            };
            let place = SecretPlace::new(columns::WEBHOOK_SECRET, 1);
            diesel::update(settings::table.find(1))
                .set((
                    settings::webhook_secret.eq(seal(place, &PlainSecret::new(plaintext))),
                    settings::legacy_webhook_secret.eq(None::<String>),
                ))
                .execute(conn)
                .context("sealing an old webhook secret")?;
            Ok(true)
        })?;
        if sealed {
            // The plaintext was written by the upgrade and may still sit in the write-ahead log.
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut conn)
                .context("clearing the write-ahead log")?;
        }
        Ok(sealed)
    }
}

fn sealed_secrets(conn: &mut SqliteConnection) -> Result<Vec<(SecretPlace, Sealed)>> {
    let mut res = Vec::new();
    let settings_row: Option<(Option<Sealed>, Option<Sealed>)> = settings::table
        .find(1)
        .select((settings::webhook_secret, settings::npm_password))
        .first(conn)
        .optional()
        .context("reading settings secrets")?;
    if let Some((webhook_secret, npm_password)) = settings_row {
        if let Some(sealed) = webhook_secret {
            res.push((SecretPlace::new(columns::WEBHOOK_SECRET, 1), sealed));
        }
        if let Some(sealed) = npm_password {
            res.push((SecretPlace::new(columns::NPM_PASSWORD, 1), sealed));
        }
    }
    let passwords: Vec<(i64, Option<Sealed>)> = registries::table
        .order(registries::id)
        .select((registries::id, registries::password))
        .load(conn)
        .context("reading registry passwords")?;
    res.extend(passwords.into_iter().filter_map(|(id, sealed)| {
        sealed.map(|sealed| (SecretPlace::new(columns::REGISTRY_PASSWORD, id), sealed))
    }));
    let urls: Vec<(i64, Sealed)> = notifications::table
        .order(notifications::id)
        .select((notifications::id, notifications::url))
        .load(conn)
        .context("reading notification URLs")?;
    res.extend(
        urls.into_iter()
            .map(|(id, sealed)| (SecretPlace::new(columns::NOTIFICATION_URL, id), sealed)),
    );
    let values: Vec<(i64, Sealed)> = project_secret_env::table
        .order(project_secret_env::id)
        .select((project_secret_env::id, project_secret_env::value))
        .load(conn)
        .context("reading secret environment variables")?;
    res.extend(
        values
            .into_iter()
            .map(|(id, sealed)| (SecretPlace::new(columns::SECRET_ENV_VALUE, id), sealed)),
    );
    Ok(res)
}

fn write_sealed(conn: &mut SqliteConnection, place: SecretPlace, sealed: &Sealed) -> Result<()> {
    let column = (place.table, place.column);
    let updated = if column == columns::WEBHOOK_SECRET {
        diesel::update(settings::table.find(place.row))
            .set(settings::webhook_secret.eq(sealed))
            .execute(conn)
    } else if column == columns::NPM_PASSWORD {
        diesel::update(settings::table.find(place.row))
            .set(settings::npm_password.eq(sealed))
            .execute(conn)
    } else if column == columns::REGISTRY_PASSWORD {
        diesel::update(registries::table.find(place.row))
            .set(registries::password.eq(sealed))
            .execute(conn)
    } else if column == columns::NOTIFICATION_URL {
        diesel::update(notifications::table.find(place.row))
            .set(notifications::url.eq(sealed))
            .execute(conn)
    } else if column == columns::SECRET_ENV_VALUE {
        diesel::update(project_secret_env::table.find(place.row))
            .set(project_secret_env::value.eq(sealed))
            .execute(conn)
    } else {
        return Err(StoreError::Secret {
            place: place.to_string(),
            message: "not a secret column".into(),
        });
    };
    updated.context("writing a re-sealed secret")?;
    Ok(())
}
