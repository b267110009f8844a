//! The data folder: the database and the secret key that seals its secrets, opened together.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crypto::{Cipher, KEY_ENV_VAR, KeyOrigin, load_or_create_key};
use deployer::Secrets;
use store::Store;

/// The database file inside the data folder.
const DATABASE_FILE: &str = "docker-watcher.sqlite";
/// The key file inside the data folder, used when `DW_SECRET_KEY` is not set.
pub const KEY_FILE: &str = "secret.key";
/// A key being rotated in: written before the database is re-sealed, so a crash in between
/// leaves the new key on disk (see `key_rotation`).
pub const NEXT_KEY_FILE: &str = "secret.key.next";
/// Locked by the process that writes the data folder, so that two cannot at once.
const LOCK_FILE: &str = "lock";

/// The opened data folder.
pub struct Data {
    /// The database.
    pub store: Store,
    /// Seals and opens its secrets.
    pub secrets: Secrets,
    /// Where the key came from.
    pub key_origin: KeyOrigin,
    /// Held while the folder is open for writing; the lock ends when it is dropped.
    pub lock: Option<File>,
}

/// How a command uses the data folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// `serve` and `seed import`: create the folder, its database and key when missing, and
    /// hold the folder's lock.
    Create,
    /// `key rotate`: the folder must hold a database; hold its lock.
    Write,
    /// `seed export`: the folder must hold a database; no lock, so it runs beside a server,
    /// and no secret is re-sealed.
    Read,
}

/// Whether `dir` holds no database yet: the first start with this data folder.
pub fn is_new(dir: &Path) -> bool {
    !dir.join(DATABASE_FILE).exists()
}

/// Opens the data folder for `usage`: its database and key, locked unless only read. Opened
/// for writing, it also finishes an interrupted key rotation and seals any plaintext secret an
/// older version left.
pub fn open(dir: &Path, usage: Use) -> Result<Data, String> {
    if usage == Use::Create {
        std::fs::create_dir_all(dir)
            .map_err(|error| format!("cannot create the data folder {}: {error}", dir.display()))?;
    } else if is_new(dir) {
        // Nothing is created: a mistyped --data-dir must not become a new, empty folder.
        return Err(format!(
            "no database in {}: give the data folder of a server that has started once (--data-dir)",
            dir.display()
        ));
    }
    let lock = match usage {
        Use::Read => None,
        Use::Create | Use::Write => Some(lock(dir)?),
    };
    let store = Store::open(&dir.join(DATABASE_FILE)).map_err(|error| error.to_string())?;
    let env_key = std::env::var(KEY_ENV_VAR).ok();
    let (key, key_origin) = load_or_create_key(env_key.as_deref(), &dir.join(KEY_FILE))
        .map_err(|error| error.to_string())?;
    log::info!("secret key: {key_origin}");
    let mut secrets = Secrets::new(Cipher::new(key));
    if usage != Use::Read {
        if key_origin != KeyOrigin::Environment {
            secrets = crate::key_rotation::finish_interrupted(dir, &store, secrets)?;
        }
        let sealed = store
            .seal_legacy_secrets(&|place, value| secrets.seal(place, value))
            .map_err(|error| error.to_string())?;
        if sealed {
            log::info!("sealed the webhook secret an older version stored in plain text");
        }
    }
    Ok(Data {
        store,
        secrets,
        key_origin,
        lock,
    })
}

/// Takes the data folder's lock, or says which folder is busy. The operating system releases
/// it when the process ends, however it ends, so a crash never leaves the folder locked.
fn lock(dir: &Path) -> Result<File, String> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(format!(
            "the data folder {} is held by another docker-watcher process (a running server, \
             a seed import or a key rotation); stop it first",
            dir.display()
        )),
        Err(TryLockError::Error(error)) => Err(format!("cannot lock {}: {error}", path.display())),
    }
}

impl Data {
    /// Fails with a clear message when the key does not open every stored secret.
    pub fn check_key(&self) -> Result<(), String> {
        self.secrets
            .check_all(&self.store)
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
}
