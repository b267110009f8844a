//! Sealing and opening stored secrets: the one place where the store's idea of a secret's place
//! meets the cipher, so every caller binds ciphertext to its row the same way.

use crypto::{Cipher, OpenError, SecretLocation, SecretString};
use store::{PlainSecret, Sealed, SecretPlace};

/// Seals secrets for the store and opens them where they are used. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Secrets {
    cipher: Cipher,
}

impl Secrets {
    /// Secrets under this cipher's key.
    pub fn new(cipher: Cipher) -> Secrets {
        Secrets { cipher }
    }

    /// Seals `value` for `place`.
    pub fn seal(&self, place: SecretPlace, value: &PlainSecret) -> Sealed {
        Sealed::from_bytes(self.cipher.seal_str(value.expose(), location(place)))
    }

    /// Opens the secret stored at `place`.
    pub fn open(&self, place: SecretPlace, sealed: &Sealed) -> Result<SecretString, OpenError> {
        self.cipher.open_str(sealed.as_bytes(), location(place))
    }

    /// The webhook's path secret, opened.
    pub fn webhook_secret(&self, settings: &store::Settings) -> Result<SecretString, SecretsError> {
        let place = SecretPlace::new(store::secret_columns::WEBHOOK_SECRET, settings.id);
        let sealed = settings
            .webhook_secret
            .as_ref()
            .ok_or(SecretsError::Missing {
                place: place.to_string(),
            })?;
        self.open(place, sealed)
            .map_err(|_| SecretsError::WrongKey {
                place: place.to_string(),
            })
    }

    /// Opens what `self` sealed and seals it again under `next`'s key (key rotation).
    pub fn reseal(
        &self,
        next: &Secrets,
        place: SecretPlace,
        sealed: &Sealed,
    ) -> Result<Sealed, OpenError> {
        let value = self.open(place, sealed)?;
        Ok(next.seal(place, &PlainSecret::new(value.expose())))
    }

    /// Checks that every stored secret opens: a wrong key must stop the server at start, not fail
    /// deploys later.
    pub fn check_all(&self, store: &store::Store) -> Result<usize, SecretsError> {
        let secrets = store.sealed_secrets()?;
        for (place, sealed) in &secrets {
            self.open(*place, sealed)
                .map_err(|_| SecretsError::WrongKey {
                    place: place.to_string(),
                })?;
        }
        Ok(secrets.len())
    }
}

/// Why stored secrets cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The key does not open a stored secret.
    #[error(
        "the secret key does not open stored secrets (first failure: {place}); start with the key \
         this database was sealed with (DW_SECRET_KEY or the key file in the data folder)"
    )]
    WrongKey {
        /// The first secret that did not open.
        place: String,
    },
    /// A secret that must exist is not stored.
    #[error("no secret is stored in {place}")]
    Missing {
        /// Where it should be.
        place: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

fn location(place: SecretPlace) -> SecretLocation<'static> {
    SecretLocation {
        table: place.table,
        column: place.column,
        row: place.row,
    }
}
