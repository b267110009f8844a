//! Keys and secrets never show up in debug output.

use crypto::{Cipher, SecretKey, SecretString};

#[test]
fn debug_of_a_key_does_not_contain_it() {
    let key = SecretKey::generate();
    let text = key.to_base64();
    let debug = format!("{key:?}");
    assert_eq!(debug, "SecretKey(<redacted>)");
    assert!(!debug.contains(text.expose()));
    let pretty = format!("{key:#?}");
    assert!(!pretty.contains(text.expose()));
    assert!(!format!("{:?}", Cipher::new(key)).contains(text.expose()));
}

#[test]
fn debug_of_a_secret_string_does_not_contain_it() {
    let secret = SecretString::new("correct-horse-battery-staple".to_owned());
    let debug = format!("{secret:?}");
    assert_eq!(debug, "SecretString(<redacted>)");
    assert!(!debug.contains("correct-horse"));
    assert!(!format!("{secret:#?}").contains("correct-horse"));
    // Inside other values, too.
    assert!(!format!("{:?}", Some(&secret)).contains("correct-horse"));
    assert_eq!(secret.expose(), "correct-horse-battery-staple");
}

#[test]
fn debug_of_the_base64_form_is_redacted_too() {
    let key = SecretKey::generate();
    let text = key.to_base64();
    assert_eq!(format!("{text:?}"), "SecretString(<redacted>)");
}
