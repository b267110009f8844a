//! Registry credentials.

use std::fmt;

use base64::Engine;

/// A registry account (or a user name and access token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header value of HTTP Basic auth.
    pub(crate) fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

impl fmt::Debug for Credentials {
    // Credentials end up in structs that get logged; the password must not.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_encodes_user_and_password() {
        assert_eq!(
            Credentials::new("deploy", "s3cret").basic_header(),
            "Basic ZGVwbG95OnMzY3JldA=="
        );
    }

    #[test]
    fn debug_does_not_show_the_password() {
        let shown = format!("{:?}", Credentials::new("deploy", "s3cret-value"));
        assert!(shown.contains("deploy"));
        assert!(!shown.contains("s3cret-value"));
    }
}
