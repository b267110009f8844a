//! Where the secret key comes from: `DW_SECRET_KEY`, or a key file that is created on first start.
//!
//! A key file is only ever published whole and private: it is written to a temporary file (mode
//! 0600) in the same folder, synced, then moved into place, so no reader sees it half written or
//! with wider permissions, and a crash leaves either the old file or the new one.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::key::SecretKey;
use crate::random;

/// The environment variable that holds the key, in standard base64; it wins over the key file.
pub const KEY_ENV_VAR: &str = "DW_SECRET_KEY";

/// Permission bits of a key file: read and write for its owner, nothing for anyone else.
const KEY_FILE_MODE: u32 = 0o600;

/// A key file is 45 bytes; anything much longer is not a key file, and is not read whole.
const MAX_KEY_FILE_LEN: u64 = 1024;

/// Where the key came from, for the start-up log (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The `DW_SECRET_KEY` environment variable.
    Environment,
    /// A key file that was already there.
    ExistingFile(PathBuf),
    /// A key file created by this start, with a new key.
    CreatedFile(PathBuf),
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Environment => write!(f, "the {KEY_ENV_VAR} environment variable"),
            KeyOrigin::ExistingFile(path) => write!(f, "key file {}", path.display()),
            KeyOrigin::CreatedFile(path) => write!(f, "new key file {}", path.display()),
        }
    }
}

/// The key from `env_value` (the value of `DW_SECRET_KEY`, if set and not blank), else from
/// `key_file`, else a new key written to `key_file` with mode 0600.
///
/// An existing key file that others than its owner may read or write is refused
/// ([`KeyError::TooOpen`]), because the key protects every stored secret. If another process
/// creates `key_file` at the same moment, its key is loaded rather than overwritten.
pub fn load_or_create_key(
    env_value: Option<&str>,
    key_file: &Path,
) -> Result<(SecretKey, KeyOrigin), KeyError> {
    if let Some(text) = env_value.filter(|text| !text.trim().is_empty()) {
        let key = SecretKey::parse(text, KEY_ENV_VAR)?;
        return Ok((key, KeyOrigin::Environment));
    }
    if let Some(key) = read_key_file(key_file)? {
        return Ok((key, KeyOrigin::ExistingFile(key_file.to_owned())));
    }
    let key = SecretKey::generate();
    if publish(key_file, &key, Publish::CreateOnly)? {
        return Ok((key, KeyOrigin::CreatedFile(key_file.to_owned())));
    }
    // Another process created the file between our read and our write: use its key, since it may
    // already have sealed secrets with it.
    match read_key_file(key_file)? {
        Some(key) => Ok((key, KeyOrigin::ExistingFile(key_file.to_owned()))),
        None => Err(KeyError::Io {
            action: "read key file",
            path: key_file.to_owned(),
            source: io::Error::new(
                io::ErrorKind::NotFound,
                "it exists but cannot be found when read: removed by another process, or a \
                 broken symbolic link",
            ),
        }),
    }
}

/// Replaces `key_file` atomically with `key` (mode 0600); used by key rotation after the database
/// has been re-encrypted with `key`.
pub fn write_key_file(key_file: &Path, key: &SecretKey) -> Result<(), KeyError> {
    publish(key_file, key, Publish::Replace).map(|_| ())
}

/// The key in `path`, or `None` if there is no such file.
fn read_key_file(path: &Path) -> Result<Option<SecretKey>, KeyError> {
    let io_error = |action| {
        move |source| KeyError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error("open key file")(error)),
    };
    // Checked on the open file, so the file read is the file checked.
    let mode = file
        .metadata()
        .map_err(io_error("read the permissions of key file"))?
        .permissions()
        .mode();
    if mode & 0o777 & !KEY_FILE_MODE != 0 {
        return Err(KeyError::TooOpen {
            path: path.to_owned(),
            mode: mode & 0o7777,
        });
    }
    // Room for the whole file up front, so the buffer never grows and leaves key copies behind.
    let mut text = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN as usize + 1));
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut text)
        .map_err(io_error("read key file"))?;
    let source_name = format!("key file {}", path.display());
    let text = std::str::from_utf8(&text).map_err(|_| KeyError::InvalidBase64 {
        source_name: source_name.clone(),
    })?;
    SecretKey::parse(text, &source_name).map(Some)
}

/// How a new key file is moved into place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Publish {
    /// Only if there is no file yet (a hard link, which refuses to overwrite).
    CreateOnly,
    /// Over any existing file (a rename).
    Replace,
}

/// Writes `key` to `key_file` through a synced temporary file in the same folder. Returns false
/// when `how` is [`Publish::CreateOnly`] and the file already exists (nothing is changed then).
fn publish(key_file: &Path, key: &SecretKey, how: Publish) -> Result<bool, KeyError> {
    let io_error = |action, path: &Path| {
        let path = path.to_owned();
        move |source| KeyError::Io {
            action,
            path,
            source,
        }
    };
    let Some(file_name) = key_file.file_name() else {
        return Err(KeyError::Io {
            action: "write key file",
            path: key_file.to_owned(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file"),
        });
    };
    let folder = match key_file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };

    let mut temp = TempFile::create(folder, &file_name.to_string_lossy())
        .map_err(io_error("create a temporary key file in", folder))?;
    temp.write(key)
        .map_err(io_error("write temporary key file", &temp.path))?;

    let published = match how {
        Publish::CreateOnly => match fs::hard_link(&temp.path, key_file) {
            Ok(()) => true,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => false,
            Err(error) => return Err(io_error("create key file", key_file)(error)),
        },
        Publish::Replace => {
            fs::rename(&temp.path, key_file).map_err(io_error("replace key file", key_file))?;
            temp.renamed = true;
            true
        }
    };
    drop(temp);
    if published {
        // The new name must survive a crash too, or a restart would find the old key (or none).
        File::open(folder)
            .and_then(|folder| folder.sync_all())
            .map_err(io_error("sync folder", folder))?;
    }
    Ok(published)
}

/// A private temporary file next to the key file, removed when dropped unless renamed.
struct TempFile {
    path: PathBuf,
    file: File,
    renamed: bool,
}

impl TempFile {
    fn create(folder: &Path, key_file_name: &str) -> io::Result<TempFile> {
        let mut suffix = [0u8; 8];
        random::fill(&mut suffix);
        let suffix: String = suffix.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = folder.join(format!(".{key_file_name}.{suffix}.tmp"));
        // Created private, so the key is never readable by others, not even for a moment.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(KEY_FILE_MODE)
            .open(&path)?;
        let temp = TempFile {
            path,
            file,
            renamed: false,
        };
        // The umask may have narrowed the mode; set it exactly so the owner can always read it.
        temp.file
            .set_permissions(fs::Permissions::from_mode(KEY_FILE_MODE))?;
        Ok(temp)
    }

    fn write(&self, key: &SecretKey) -> io::Result<()> {
        let text = key.to_base64();
        let mut file = &self.file;
        file.write_all(text.expose().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // After a hard link or a failure the temporary name is still there; nothing to do if it
        // cannot be removed, the key file itself is what matters.
        if !self.renamed {
            let _ = fs::remove_file(&self.path);
        }
    }
}
