//! A decrypted secret held in memory.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{ZeroizeOnDrop, Zeroizing};

/// A secret in clear text: wiped from memory when dropped, and never printed.
///
/// `Debug` prints `SecretString(<redacted>)`; there is no `Display` and no `Serialize`, so the
/// only way to the text is [`SecretString::expose`], which makes every use easy to find.
#[derive(Clone)]
pub struct SecretString {
    value: Zeroizing<String>,
}

impl SecretString {
    /// Takes ownership of `value`; it is wiped when the `SecretString` is dropped.
    pub fn new(value: String) -> SecretString {
        SecretString {
            value: Zeroizing::new(value),
        }
    }

    /// The secret text. Do not log it.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl PartialEq for SecretString {
    /// Compares in constant time (for a given length), since secrets are compared with guesses.
    fn eq(&self, other: &SecretString) -> bool {
        self.value.as_bytes().ct_eq(other.value.as_bytes()).into()
    }
}

impl Eq for SecretString {}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl ZeroizeOnDrop for SecretString {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_compare_equal() {
        let a = SecretString::new("hunter2".to_owned());
        assert_eq!(a, a.clone());
        assert_ne!(a, SecretString::new("hunter3".to_owned()));
        assert_ne!(a, SecretString::new("hunter".to_owned()));
    }
}
