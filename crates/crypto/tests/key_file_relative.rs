//! A key file named without a folder lives in the current folder.
//!
//! Its own test binary, because it changes the current folder of the whole process.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crypto::{KeyOrigin, SecretKey, load_or_create_key, write_key_file};

#[test]
fn a_bare_file_name_is_created_and_replaced_in_the_current_folder() {
    let folder = tempfile::tempdir().unwrap();
    std::env::set_current_dir(folder.path()).unwrap();
    let path = Path::new("secret.key");

    let (_, origin) = load_or_create_key(None, path).unwrap();
    assert_eq!(origin, KeyOrigin::CreatedFile(path.to_owned()));
    write_key_file(path, &SecretKey::generate()).unwrap();

    let file = folder.path().join("secret.key");
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(fs::read_dir(folder.path()).unwrap().count(), 1);
}
