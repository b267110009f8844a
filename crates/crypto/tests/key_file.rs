//! Loading, creating and replacing the key: the environment variable, the key file, permissions.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crypto::{
    Cipher, KeyError, KeyOrigin, SecretKey, SecretLocation, load_or_create_key, write_key_file,
};

const HERE: SecretLocation<'static> = SecretLocation {
    table: "registries",
    column: "password",
    row: 1,
};

/// Whether two keys are the same, seen from outside: one opens what the other sealed.
fn same_key(a: SecretKey, b: SecretKey) -> bool {
    let blob = Cipher::new(a).seal_str("probe", HERE);
    Cipher::new(b).open_str(&blob, HERE).is_ok()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn file_names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn creates_a_private_key_file_and_loads_it_again() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");

    let (created, origin) = load_or_create_key(None, &path).unwrap();
    assert_eq!(origin, KeyOrigin::CreatedFile(path.clone()));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(file_names(folder.path()), ["secret.key"]);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim_end().len(), 44);
    assert!(text.ends_with('\n'));

    let (loaded, origin) = load_or_create_key(None, &path).unwrap();
    assert_eq!(origin, KeyOrigin::ExistingFile(path.clone()));
    assert!(same_key(created, loaded));
}

#[test]
fn an_empty_env_value_falls_back_to_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    let (_, origin) = load_or_create_key(Some(""), &path).unwrap();
    assert_eq!(origin, KeyOrigin::CreatedFile(path.clone()));
    let (_, origin) = load_or_create_key(Some("  \n"), &path).unwrap();
    assert_eq!(origin, KeyOrigin::ExistingFile(path));
}

#[test]
fn a_key_file_readable_by_others_is_refused_with_the_fix() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    fs::write(&path, SecretKey::generate().to_base64().expose()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

    let error = load_or_create_key(None, &path).unwrap_err();
    assert!(
        matches!(error, KeyError::TooOpen { mode: 0o644, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("chmod 600 {}", path.display())),
        "{message}"
    );
    assert!(message.contains("0644"), "{message}");

    // Narrower than 0600 is fine.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    let (_, origin) = load_or_create_key(None, &path).unwrap();
    assert_eq!(origin, KeyOrigin::ExistingFile(path));
}

#[test]
fn a_key_file_that_is_not_a_key_is_an_error_naming_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    fs::write(&path, "not-a-key\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();

    let message = load_or_create_key(None, &path).unwrap_err().to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(!message.contains("not-a-key"), "{message}");
    // It is left alone, not replaced by a new key.
    assert_eq!(fs::read_to_string(&path).unwrap(), "not-a-key\n");
}

#[test]
fn the_env_value_wins_over_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    let (file_key, _) = load_or_create_key(None, &path).unwrap();

    let env_key = SecretKey::generate();
    let env_text = env_key.to_base64();
    let (loaded, origin) = load_or_create_key(Some(env_text.expose()), &path).unwrap();
    assert_eq!(origin, KeyOrigin::Environment);
    assert!(same_key(env_key, loaded));

    let (loaded, _) = load_or_create_key(Some(env_text.expose()), &path).unwrap();
    assert!(!same_key(file_key, loaded));
}

#[test]
fn the_env_value_wins_even_without_a_file_and_creates_none() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    let text = SecretKey::generate().to_base64();
    let (_, origin) = load_or_create_key(Some(text.expose()), &path).unwrap();
    assert_eq!(origin, KeyOrigin::Environment);
    assert!(!path.exists());
}

#[test]
fn bad_env_values_name_the_variable_and_never_contain_the_value() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    let not_base64 = "definitely*not*base64";
    let too_short = "c2hvcnQtYnV0LXZhbGlkLWJhc2U2NA=="; // "short-but-valid-base64"

    let error = load_or_create_key(Some(not_base64), &path).unwrap_err();
    assert!(matches!(error, KeyError::InvalidBase64 { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("DW_SECRET_KEY"), "{message}");
    assert!(!message.contains(not_base64), "{message}");
    assert!(!format!("{error:?}").contains(not_base64));

    let error = load_or_create_key(Some(too_short), &path).unwrap_err();
    assert!(
        matches!(error, KeyError::WrongLength { got: 22, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("DW_SECRET_KEY"), "{message}");
    assert!(!message.contains(too_short), "{message}");
    assert!(!format!("{error:?}").contains(too_short));

    // A bad variable is an error, not a reason to fall back to a new key file.
    assert!(!path.exists());
}

#[test]
fn write_key_file_replaces_the_key_and_leaves_no_temporary_files() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    let (old_key, _) = load_or_create_key(None, &path).unwrap();
    let old_cipher = Cipher::new(old_key);
    let old_blob = old_cipher.seal_str("sealed before rotation", HERE);

    let new_key = SecretKey::generate();
    let new_blob = Cipher::new(SecretKey::from_base64(new_key.to_base64().expose()).unwrap())
        .seal_str("sealed after rotation", HERE);
    write_key_file(&path, &new_key).unwrap();

    assert_eq!(mode(&path), 0o600);
    assert_eq!(file_names(folder.path()), ["secret.key"]);
    let (loaded, origin) = load_or_create_key(None, &path).unwrap();
    assert_eq!(origin, KeyOrigin::ExistingFile(path.clone()));
    let loaded = Cipher::new(loaded);
    assert_eq!(
        loaded.open_str(&new_blob, HERE).unwrap().expose(),
        "sealed after rotation"
    );
    assert!(loaded.open_str(&old_blob, HERE).is_err());
}

#[test]
fn write_key_file_creates_a_missing_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("rotated.key");
    write_key_file(&path, &SecretKey::generate()).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(file_names(folder.path()), ["rotated.key"]);
}

#[test]
fn a_missing_folder_is_an_io_error_naming_it_and_leaves_nothing_behind() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("missing").join("secret.key");
    let error = load_or_create_key(None, &path).unwrap_err();
    assert!(matches!(error, KeyError::Io { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&folder.path().join("missing").display().to_string()),
        "{error}"
    );
    assert!(file_names(folder.path()).is_empty());
}

#[test]
fn processes_starting_together_agree_on_one_key() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    let barrier = std::sync::Barrier::new(8);
    let keys: Vec<(SecretKey, KeyOrigin)> = std::thread::scope(|scope| {
        let starts: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    load_or_create_key(None, &path).unwrap()
                })
            })
            .collect();
        starts
            .into_iter()
            .map(|start| start.join().unwrap())
            .collect()
    });

    let created = keys
        .iter()
        .filter(|(_, origin)| matches!(origin, KeyOrigin::CreatedFile(_)))
        .count();
    assert_eq!(created, 1, "exactly one start creates the file");
    let (on_disk, _) = load_or_create_key(None, &path).unwrap();
    let on_disk = Cipher::new(on_disk);
    for (key, _) in keys {
        let blob = Cipher::new(key).seal_str("probe", HERE);
        assert!(
            on_disk.open_str(&blob, HERE).is_ok(),
            "a start got a key that is not on disk"
        );
    }
    assert_eq!(file_names(folder.path()), ["secret.key"]);
}
