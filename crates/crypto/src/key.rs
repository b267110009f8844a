//! The secret key: 32 random bytes that seal and open every stored secret.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::KeyError;
use crate::random;
use crate::secret::SecretString;

/// Length of a key in bytes.
pub(crate) const KEY_LEN: usize = 32;

/// 32 random bytes, wiped from memory when dropped.
///
/// `Debug` prints `SecretKey(<redacted>)`; there is no `Display` and no `Serialize`. The only way
/// out is [`SecretKey::to_base64`], for writing the key file or showing it once to an operator.
pub struct SecretKey {
    // Boxed so moving the key around does not leave copies of it on the stack.
    bytes: Box<[u8; KEY_LEN]>,
}

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> SecretKey {
        let mut bytes = Box::new([0u8; KEY_LEN]);
        random::fill(&mut bytes[..]);
        SecretKey { bytes }
    }

    /// Reads a key written by [`SecretKey::to_base64`]: standard base64 of exactly 32 bytes.
    /// Surrounding whitespace (such as the newline at the end of a file) is ignored.
    ///
    /// Errors name the source as "the secret key"; they never contain `text`.
    pub fn from_base64(text: &str) -> Result<SecretKey, KeyError> {
        SecretKey::parse(text, "the secret key")
    }

    /// [`SecretKey::from_base64`], with errors naming `source_name` (an environment variable or a
    /// file) so the operator knows what to fix.
    pub(crate) fn parse(text: &str, source_name: &str) -> Result<SecretKey, KeyError> {
        let decoded =
            Zeroizing::new(
                STANDARD
                    .decode(text.trim())
                    .map_err(|_| KeyError::InvalidBase64 {
                        source_name: source_name.to_owned(),
                    })?,
            );
        if decoded.len() != KEY_LEN {
            return Err(KeyError::WrongLength {
                source_name: source_name.to_owned(),
                got: decoded.len(),
            });
        }
        let mut bytes = Box::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&decoded);
        Ok(SecretKey { bytes })
    }

    /// The key as standard base64 (44 characters), the form of the key file and `DW_SECRET_KEY`.
    pub fn to_base64(&self) -> SecretString {
        SecretString::new(STANDARD.encode(&self.bytes[..]))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_ignores_surrounding_whitespace() {
        let key = SecretKey::generate();
        let text = key.to_base64();
        assert_eq!(text.expose().len(), 44);
        let padded = format!("  {}\r\n", text.expose());
        let again = SecretKey::from_base64(&padded).unwrap();
        assert_eq!(again.bytes(), key.bytes());
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(SecretKey::generate().bytes(), SecretKey::generate().bytes());
    }

    #[test]
    fn bad_text_errors_do_not_contain_it() {
        let not_base64 = "this is not base64 at all!";
        let error = SecretKey::from_base64(not_base64).unwrap_err();
        assert!(matches!(error, KeyError::InvalidBase64 { .. }));
        assert!(!error.to_string().contains(not_base64));

        let short = STANDARD.encode([7u8; 16]);
        let error = SecretKey::from_base64(&short).unwrap_err();
        assert!(matches!(error, KeyError::WrongLength { got: 16, .. }));
        assert!(!error.to_string().contains(&short));
    }
}
