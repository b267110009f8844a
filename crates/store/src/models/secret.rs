//! Secrets in the database: only ciphertext is stored, and it is bound to where it lives.
//!
//! The store never sees a key. Callers seal a value for its [`SecretPlace`] before it is written and
//! open it where it is used; the place (table, column, row) is part of the ciphertext, so a value
//! copied into another row does not open.

/// A sealed (encrypted) value as stored. `Debug` shows only its length; there is no `Serialize`.
#[derive(
    Clone, PartialEq, Eq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Binary)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// Wraps ciphertext produced by the caller.
    pub fn from_bytes(bytes: Vec<u8>) -> Sealed {
        Sealed(bytes)
    }

    /// The ciphertext.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed(<{} bytes>)", self.0.len())
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Binary, diesel::sqlite::Sqlite> for Sealed {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(self.0.as_slice());
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Binary, diesel::sqlite::Sqlite> for Sealed {
    fn from_sql(
        value: diesel::sqlite::SqliteValue<'_, '_, '_>,
    ) -> diesel::deserialize::Result<Self> {
        let bytes = <Vec<u8> as diesel::deserialize::FromSql<
            diesel::sql_types::Binary,
            diesel::sqlite::Sqlite,
        >>::from_sql(value)?;
        Ok(Sealed(bytes))
    }
}

/// A plaintext secret on its way in, to be sealed before it is written. `Debug` hides it; there is
/// no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainSecret(String);

impl PlainSecret {
    /// Wraps a plaintext value.
    pub fn new(value: impl Into<String>) -> PlainSecret {
        PlainSecret(value.into())
    }

    /// The plaintext, for sealing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainSecret(<redacted>)")
    }
}

/// A secret as configured: its value and, when it came from an environment variable, that
/// variable's name (so an export can refer to it instead of writing the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInput {
    /// The value.
    pub value: PlainSecret,
    /// The environment variable it was read from.
    pub env: Option<String>,
}

/// Where a secret is stored; sealed into its ciphertext as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretPlace {
    /// Table name.
    pub table: &'static str,
    /// Column name.
    pub column: &'static str,
    /// Row id.
    pub row: i64,
}

/// The (table, column) pairs that hold secrets. Rotation and the start-up key check cover each.
pub mod columns {
    /// `settings.webhook_secret`.
    pub const WEBHOOK_SECRET: (&str, &str) = ("settings", "webhook_secret");
    /// `settings.npm_password`.
    pub const NPM_PASSWORD: (&str, &str) = ("settings", "npm_password");
    /// `registries.password`.
    pub const REGISTRY_PASSWORD: (&str, &str) = ("registries", "password");
    /// `notifications.url`.
    pub const NOTIFICATION_URL: (&str, &str) = ("notifications", "url");
    /// `project_secret_env.value`.
    pub const SECRET_ENV_VALUE: (&str, &str) = ("project_secret_env", "value");
}

impl SecretPlace {
    /// The place of a secret column's value in one row.
    pub fn new(column: (&'static str, &'static str), row: i64) -> SecretPlace {
        SecretPlace {
            table: column.0,
            column: column.1,
            row,
        }
    }
}

impl std::fmt::Display for SecretPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{} of row {}", self.table, self.column, self.row)
    }
}
