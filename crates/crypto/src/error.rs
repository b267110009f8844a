//! Why a key could not be had, and why a stored secret could not be opened.
//!
//! No message ever contains key material or secret bytes: they end up in logs.

use std::io;
use std::path::PathBuf;

/// Why the secret key could not be loaded, created or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not standard base64.
    #[error(
        "{source_name} is not valid base64: a secret key is 32 random bytes in standard base64 \
         (44 characters, e.g. from `openssl rand -base64 32`)"
    )]
    InvalidBase64 {
        /// Where the text came from: `DW_SECRET_KEY`, a key file, or "the secret key".
        source_name: String,
    },
    /// The text is base64 but not of 32 bytes.
    #[error(
        "{source_name} decodes to {got} bytes, but a secret key is exactly 32 bytes \
         (44 characters of base64, e.g. from `openssl rand -base64 32`)"
    )]
    WrongLength {
        /// Where the text came from, as in [`KeyError::InvalidBase64`].
        source_name: String,
        /// How many bytes it decoded to.
        got: usize,
    },
    /// Reading or writing the key file (or its temporary file or folder) failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "read key file".
        action: &'static str,
        /// The file or folder it was done to.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The key file can be read or written by others than its owner.
    #[error(
        "key file {path} has mode {mode:04o}, which lets others than its owner read or change it; \
         the key protects every stored secret, so restrict it with `chmod 600 {path}`",
        path = path.display()
    )]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// Why a stored secret could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Authentication failed. A wrong key, a changed ciphertext and a ciphertext moved from another
    /// place are indistinguishable to the AEAD, so they share this one variant.
    #[error(
        "the secret key does not open the stored secret {table}.{column} of row {row}: \
         the key is not the one it was sealed with, or the stored value was changed or copied \
         from elsewhere"
    )]
    DoesNotOpen {
        /// The table the secret was read from.
        table: String,
        /// Its column.
        column: String,
        /// Its row id.
        row: i64,
    },
    /// The blob starts with a format version this build does not know.
    #[error("stored secret has unknown format version {version}")]
    UnknownFormat {
        /// The first byte of the blob.
        version: u8,
    },
    /// The blob is too short to hold a version, a nonce and a tag.
    #[error("stored secret is truncated: {len} bytes, at least 41 expected")]
    Truncated {
        /// The blob's length.
        len: usize,
    },
    /// `open_str` opened a value that is not UTF-8 text.
    #[error("stored secret is not UTF-8 text")]
    NotUtf8,
}
