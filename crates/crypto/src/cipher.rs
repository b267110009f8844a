//! Sealing and opening values with XChaCha20-Poly1305, and the blob format that carries them.
//!
//! Blob: `[format version 1][24-byte random nonce][ciphertext][16-byte tag]`. The version byte
//! lets a later format (or algorithm) be read next to this one; 24-byte nonces are large enough
//! to be drawn at random for every seal without fear of repeating one.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::error::OpenError;
use crate::key::SecretKey;
use crate::location::SecretLocation;
use crate::random;
use crate::secret::SecretString;

/// The only format this build writes and reads.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// The shortest blob: an empty plaintext still has a version, a nonce and a tag.
const MIN_LEN: usize = HEADER_LEN + TAG_LEN;

/// Seals and opens stored secrets with one key.
///
/// Cloning copies the key; every copy is wiped when dropped.
#[derive(Clone)]
pub struct Cipher {
    // Boxed so moves do not leave copies of the key behind; the `zeroize` feature wipes it on drop.
    aead: Box<XChaCha20Poly1305>,
}

impl Cipher {
    /// A cipher for `key`, which is consumed (and wiped) so only the cipher holds it.
    pub fn new(key: SecretKey) -> Cipher {
        let key: &Key = key.bytes().into();
        Cipher {
            aead: Box::new(XChaCha20Poly1305::new(key)),
        }
    }

    /// Encrypts `plaintext` for storage at `location`, under a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], location: SecretLocation<'_>) -> Vec<u8> {
        let mut blob = Vec::with_capacity(MIN_LEN + plaintext.len());
        blob.push(VERSION);
        blob.resize(HEADER_LEN, 0);
        random::fill(&mut blob[1..HEADER_LEN]);
        let nonce = XNonce::try_from(&blob[1..HEADER_LEN]).expect("the nonce slice is 24 bytes");
        blob.extend_from_slice(plaintext);
        // Encrypt in the blob itself so the plaintext is never copied anywhere that is not overwritten.
        let tag = self
            .aead
            .encrypt_inout_detached(
                &nonce,
                &location.associated_data(),
                blob[HEADER_LEN..].as_mut().into(),
            )
            // Only messages of hundreds of gigabytes are refused; secrets are far smaller.
            .expect("XChaCha20-Poly1305 refused to seal a value");
        blob.extend_from_slice(&tag);
        blob
    }

    /// [`Cipher::seal`] for text.
    pub fn seal_str(&self, plaintext: &str, location: SecretLocation<'_>) -> Vec<u8> {
        self.seal(plaintext.as_bytes(), location)
    }

    /// Decrypts a blob made by [`Cipher::seal`] for the same `location` with the same key.
    ///
    /// Any other key, any changed byte and any other location give [`OpenError::DoesNotOpen`].
    pub fn open(
        &self,
        blob: &[u8],
        location: SecretLocation<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let Some(&version) = blob.first() else {
            return Err(OpenError::Truncated { len: 0 });
        };
        // The version decides the layout, so it is checked before the length.
        if version != VERSION {
            return Err(OpenError::UnknownFormat { version });
        }
        if blob.len() < MIN_LEN {
            return Err(OpenError::Truncated { len: blob.len() });
        }
        let nonce = XNonce::try_from(&blob[1..HEADER_LEN]).expect("the nonce slice is 24 bytes");
        let (ciphertext, tag) = blob[HEADER_LEN..].split_at(blob.len() - MIN_LEN);
        let tag = tag.try_into().expect("the tag slice is 16 bytes");
        // Decrypted straight into a buffer that is wiped on drop, error or not.
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        self.aead
            .decrypt_inout_detached(
                &nonce,
                &location.associated_data(),
                plaintext.as_mut_slice().into(),
                tag,
            )
            .map_err(|_| OpenError::DoesNotOpen {
                table: location.table.to_owned(),
                column: location.column.to_owned(),
                row: location.row,
            })?;
        Ok(plaintext)
    }

    /// [`Cipher::open`] for text sealed with [`Cipher::seal_str`].
    pub fn open_str(
        &self,
        blob: &[u8],
        location: SecretLocation<'_>,
    ) -> Result<SecretString, OpenError> {
        let mut plaintext = self.open(blob, location)?;
        // Move the bytes into the string rather than copying them, so no unwiped copy is left.
        match String::from_utf8(std::mem::take(&mut *plaintext)) {
            Ok(text) => Ok(SecretString::new(text)),
            Err(error) => {
                // Hand the bytes back to the wiping buffer before failing.
                *plaintext = error.into_bytes();
                Err(OpenError::NotUtf8)
            }
        }
    }
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}
