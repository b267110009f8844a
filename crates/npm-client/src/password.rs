//! The NPM user's password, kept out of `Debug` output, logs and errors.

use std::fmt;

use zeroize::Zeroizing;

/// The password of the NPM user the client logs in as.
///
/// It has no `Display` and no `Serialize`, its `Debug` prints nothing of it, and its memory is
/// wiped when it is dropped. The client keeps it to log in again when NPM's token expires.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(password: impl Into<String>) -> Password {
        Password(Zeroizing::new(password.into()))
    }

    /// The password itself, for the login request only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Password {
        Password::new(password)
    }
}

impl From<String> for Password {
    fn from(password: String) -> Password {
        Password::new(password)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_nothing_of_the_password() {
        let password = Password::from("hunter2-but-longer");
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        assert_eq!(password.expose(), "hunter2-but-longer");
    }
}
