//! `docker-watcher key rotate`: every stored secret re-sealed under a new key, in one
//! transaction, and the key file replaced — in an order that a crash at any point survives.
//!
//! 1. The new key is written to `secret.key.next`.
//! 2. The database is re-sealed in one transaction.
//! 3. `secret.key.next` is renamed over `secret.key`.
//!
//! A crash before 2 commits leaves the old key working (the next start removes the unused file);
//! a crash after it leaves the new key in `secret.key.next`, which the next start finds, checks
//! and puts in place ([`finish_interrupted`]).

use std::path::Path;

use crypto::{Cipher, KeyOrigin, SecretKey, load_or_create_key, write_key_file};
use deployer::Secrets;
use store::Store;

use crate::data::{self, KEY_FILE, NEXT_KEY_FILE};

/// Rotates the key of the data folder `dir`.
pub fn rotate(dir: &Path) -> Result<(), String> {
    let data = data::open(dir, data::Use::Write)?;
    data.check_key()?;
    let new_key = SecretKey::generate();
    let from_environment = data.key_origin == KeyOrigin::Environment;
    if from_environment {
        // The key lives outside this folder: hand the new one to the operator before anything
        // changes, so it is never lost.
        println!("{}", new_key.to_base64().expose());
        eprintln!(
            "DW_SECRET_KEY holds the key: the new key is printed above. Put it in DW_SECRET_KEY \
             before the next start; the old key stops working now."
        );
    } else {
        write_key_file(&dir.join(NEXT_KEY_FILE), &new_key).map_err(|error| error.to_string())?;
    }
    let next = Secrets::new(Cipher::new(new_key));
    let count = data
        .store
        .reseal_all(|place, sealed| {
            data.secrets
                .reseal(&next, place, sealed)
                .map_err(|error| error.to_string())
        })
        .map_err(|error| format!("the key was not changed: {error}"))?;
    if !from_environment {
        std::fs::rename(dir.join(NEXT_KEY_FILE), dir.join(KEY_FILE)).map_err(|error| {
            format!(
                "the database uses the new key, in {}; moving it to {} failed: {error}",
                NEXT_KEY_FILE, KEY_FILE
            )
        })?;
    }
    eprintln!("re-sealed {count} secret(s) under a new key");
    Ok(())
}

/// Completes or discards a rotation that a crash interrupted; returns the secrets to use.
pub fn finish_interrupted(dir: &Path, store: &Store, current: Secrets) -> Result<Secrets, String> {
    let next_file = dir.join(NEXT_KEY_FILE);
    if !next_file.exists() {
        return Ok(current);
    }
    if current.check_all(store).is_ok() {
        // The database was not re-sealed: the rotation never happened.
        std::fs::remove_file(&next_file)
            .map_err(|error| format!("cannot remove {}: {error}", next_file.display()))?;
        log::warn!(
            "removed {} left by a key rotation that did not complete",
            next_file.display()
        );
        return Ok(current);
    }
    let (next_key, _) = load_or_create_key(None, &next_file).map_err(|error| error.to_string())?;
    let next = Secrets::new(Cipher::new(next_key));
    next.check_all(store).map_err(|error| error.to_string())?;
    std::fs::rename(&next_file, dir.join(KEY_FILE))
        .map_err(|error| format!("cannot move {} into place: {error}", next_file.display()))?;
    log::warn!("finished a key rotation that a stop interrupted");
    Ok(next)
}
