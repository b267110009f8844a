//! Opening the database: the connection pool, per-connection settings and migrations.

use std::path::Path;
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::connection::{Connection, SimpleConnection};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{QueryContext, Result, StoreError};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

pub(crate) type Conn = PooledConnection<ConnectionManager<SqliteConnection>>;

/// Settings SQLite keeps per connection, so they are applied every time the pool hands one out.
/// (`busy_timeout` in particular is not stored in the database file.)
#[derive(Debug)]
struct ConnectionSettings;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(
        &self,
        conn: &mut SqliteConnection,
    ) -> std::result::Result<(), diesel::r2d2::Error> {
        // The database file was switched to WAL (which it remembers) before the pool existed, so
        // this only confirms it; the other settings live and die with each connection.
        conn.batch_execute(
            // secure_delete: a replaced secret's old ciphertext (or an upgraded database's old
            // plaintext) is overwritten rather than left in free pages.
            "PRAGMA busy_timeout = 5000;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The handle every part of the program uses to reach the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<SqliteConnection>>,
}

impl Store {
    /// Opens (creating when missing) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let open_error = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        let url = path
            .to_str()
            .ok_or_else(|| open_error("the path is not valid UTF-8".into()))?;
        // Switching a new file to WAL needs an exclusive lock, and SQLite does not wait on a busy
        // handler for it; do it once on a lone connection, before the pool opens several at once.
        let mut first = SqliteConnection::establish(url).map_err(|e| open_error(e.to_string()))?;
        first
            .batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON;",
            )
            .map_err(|e| open_error(format!("cannot switch to WAL: {e}")))?;
        // Migrations run here, with foreign keys off (the bundled SQLite turns them on by default):
        // rebuilding a table means dropping the old one, which with foreign keys on would cascade
        // into the rows that refer to it. The check afterwards makes sure every reference holds.
        first
            .batch_execute("PRAGMA foreign_keys = OFF;")
            .map_err(|e| open_error(format!("cannot prepare migrations: {e}")))?;
        first
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| open_error(format!("migration failed: {e}")))?;
        let broken: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "SELECT COUNT(*) FROM pragma_foreign_key_check",
        )
        .get_result(&mut first)
        .map_err(|e| open_error(format!("cannot check foreign keys: {e}")))?;
        if broken > 0 {
            return Err(open_error(format!(
                "{broken} row(s) refer to rows that do not exist"
            )));
        }
        drop(first);
        let pool = Pool::builder()
            .max_size(8)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(ConnectionSettings))
            .build(ConnectionManager::<SqliteConnection>::new(url))
            .map_err(|e| open_error(e.to_string()))?;
        Ok(Store { pool })
    }

    pub(crate) fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    /// Moves everything in the write-ahead log into the database file and empties the log. Call
    /// at shutdown: threads that still hold the pool when the process exits would otherwise
    /// leave the log for the next start to replay.
    pub fn checkpoint(&self) -> Result<()> {
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *self.conn()?)
            .context("emptying the write-ahead log")?;
        Ok(())
    }
}

/// Milliseconds since the Unix epoch: the store's unit of time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
