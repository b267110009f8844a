//! The data folder: the database and the secret key that seals its secrets, opened together.

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

/// The opened data folder.
pub struct Data {
    /// The database.
    pub store: Store,
    /// Seals and opens its secrets.
    pub secrets: Secrets,
    /// Where the key came from.
    pub key_origin: KeyOrigin,
}

/// Whether `dir` holds no database yet: the first start with this data folder.
pub fn is_new(dir: &Path) -> bool {
    !dir.join(DATABASE_FILE).exists()
}

/// Opens (creating when missing) the data folder, its database and its key, and seals any
/// plaintext secret an older version left.
pub fn open(dir: &Path) -> Result<Data, String> {
    std::fs::create_dir_all(dir)
        .map_err(|error| format!("cannot create the data folder {}: {error}", dir.display()))?;
    let store = Store::open(&dir.join(DATABASE_FILE)).map_err(|error| error.to_string())?;
    let env_key = std::env::var(KEY_ENV_VAR).ok();
    let (key, key_origin) = load_or_create_key(env_key.as_deref(), &dir.join(KEY_FILE))
        .map_err(|error| error.to_string())?;
    log::info!("secret key: {key_origin}");
    let mut secrets = Secrets::new(Cipher::new(key));
    if key_origin != KeyOrigin::Environment {
        secrets = crate::key_rotation::finish_interrupted(dir, &store, secrets)?;
    }
    let sealed = store
        .seal_legacy_secrets(&|place, value| secrets.seal(place, value))
        .map_err(|error| error.to_string())?;
    if sealed {
        log::info!("sealed the webhook secret an older version stored in plain text");
    }
    Ok(Data {
        store,
        secrets,
        key_origin,
    })
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
