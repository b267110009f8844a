//! Sealing and opening secrets at rest (XChaCha20-Poly1305) and managing the key that does it.
//!
//! Owns: the secret key (loading it from `DW_SECRET_KEY` or the key file, creating the key file on
//! first start, writing a new key file during rotation), the ciphertext format, and the in-memory
//! types that keep keys and decrypted secrets out of logs and wipe them when dropped.
//!
//! Does not own: where ciphertext is stored (that is `store`), who may read a secret (that is the
//! caller's decision), or re-encrypting the database during key rotation (the caller opens with the
//! old [`Cipher`], seals with the new one, then calls [`write_key_file`]).
//!
//! A sealed value is bound to its [`SecretLocation`] (table, column, row): a ciphertext copied to
//! another place fails to open, as does one opened with the wrong key or changed in any byte.

mod cipher;
mod error;
mod key;
mod key_file;
mod location;
mod random;
mod secret;

pub use cipher::Cipher;
pub use error::{KeyError, OpenError};
pub use key::SecretKey;
pub use key_file::{KEY_ENV_VAR, KeyOrigin, load_or_create_key, write_key_file};
pub use location::SecretLocation;
pub use secret::SecretString;
