//! Sealing and opening: round trips, the location binding, tampering and malformed blobs.

use crypto::{Cipher, OpenError, SecretKey, SecretLocation};

const HERE: SecretLocation<'static> = SecretLocation {
    table: "registries",
    column: "password",
    row: 7,
};

fn cipher() -> Cipher {
    Cipher::new(SecretKey::generate())
}

#[test]
fn bytes_round_trip_empty_small_and_10_kib() {
    let cipher = cipher();
    let large: Vec<u8> = (0..10 * 1024).map(|i| (i % 251) as u8).collect();
    for plaintext in [&b""[..], &b"hunter2"[..], &large[..]] {
        let blob = cipher.seal(plaintext, HERE);
        assert_eq!(blob.len(), 1 + 24 + plaintext.len() + 16);
        assert_eq!(blob[0], 1);
        assert_eq!(&cipher.open(&blob, HERE).unwrap()[..], plaintext);
    }
}

#[test]
fn text_round_trip_empty_small_and_10_kib() {
    let cipher = cipher();
    let large = "é".repeat(5 * 1024);
    assert_eq!(large.len(), 10 * 1024);
    for plaintext in ["", "s3cr3t-tok€n", &large] {
        let blob = cipher.seal_str(plaintext, HERE);
        assert_eq!(cipher.open_str(&blob, HERE).unwrap().expose(), plaintext);
    }
}

#[test]
fn sealing_twice_gives_different_blobs_that_both_open() {
    let cipher = cipher();
    let first = cipher.seal_str("same value", HERE);
    let second = cipher.seal_str("same value", HERE);
    assert_ne!(first, second);
    assert_ne!(first[1..25], second[1..25], "nonces must differ");
    assert_eq!(
        cipher.open_str(&first, HERE).unwrap().expose(),
        "same value"
    );
    assert_eq!(
        cipher.open_str(&second, HERE).unwrap().expose(),
        "same value"
    );
}

#[test]
fn the_plaintext_does_not_appear_in_the_blob() {
    let blob = cipher().seal_str("plainly-visible-secret", HERE);
    let needle = b"plainly-visible-secret";
    assert!(!blob.windows(needle.len()).any(|window| window == needle));
}

#[test]
fn changing_any_single_byte_fails_to_open() {
    let cipher = cipher();
    let blob = cipher.seal_str("do not touch", HERE);
    for position in 0..blob.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut tampered = blob.clone();
            tampered[position] ^= flip;
            let result = cipher.open(&tampered, HERE);
            assert!(result.is_err(), "byte {position} ^ {flip:#x} still opened");
            if position > 0 {
                assert!(matches!(result, Err(OpenError::DoesNotOpen { .. })));
            }
        }
    }
}

#[test]
fn appending_or_removing_bytes_fails_to_open() {
    let cipher = cipher();
    let blob = cipher.seal_str("exact length", HERE);
    let mut longer = blob.clone();
    longer.push(0);
    assert!(cipher.open(&longer, HERE).is_err());
    assert!(cipher.open(&blob[..blob.len() - 1], HERE).is_err());
}

#[test]
fn a_wrong_key_does_not_open_and_the_error_names_the_location() {
    let blob = cipher().seal_str("for the other key", HERE);
    let error = cipher().open_str(&blob, HERE).unwrap_err();
    assert_eq!(
        error,
        OpenError::DoesNotOpen {
            table: "registries".to_owned(),
            column: "password".to_owned(),
            row: 7,
        }
    );
    let message = error.to_string();
    assert!(message.contains("registries.password"), "{message}");
    assert!(message.contains("row 7"), "{message}");
    assert!(!message.contains("for the other key"), "{message}");
}

#[test]
fn a_blob_moved_to_another_row_column_or_table_does_not_open() {
    let cipher = cipher();
    let blob = cipher.seal_str("belongs to row 7", HERE);
    let elsewhere = [
        SecretLocation { row: 8, ..HERE },
        SecretLocation { row: -7, ..HERE },
        SecretLocation {
            column: "token",
            ..HERE
        },
        SecretLocation {
            table: "projects",
            ..HERE
        },
    ];
    for location in elsewhere {
        let error = cipher.open_str(&blob, location).unwrap_err();
        assert_eq!(
            error,
            OpenError::DoesNotOpen {
                table: location.table.to_owned(),
                column: location.column.to_owned(),
                row: location.row,
            }
        );
    }
    assert!(cipher.open_str(&blob, HERE).is_ok());
}

#[test]
fn text_shifted_between_table_and_column_does_not_open() {
    let cipher = cipher();
    let sealed_at = SecretLocation {
        table: "a_b",
        column: "c",
        row: 1,
    };
    let shifted = SecretLocation {
        table: "a",
        column: "b_c",
        row: 1,
    };
    let blob = cipher.seal(b"x", sealed_at);
    assert!(matches!(
        cipher.open(&blob, shifted),
        Err(OpenError::DoesNotOpen { .. })
    ));
}

#[test]
fn an_unknown_version_byte_is_reported() {
    let cipher = cipher();
    let mut blob = cipher.seal_str("v1", HERE);
    for version in [0u8, 2, 0xff] {
        blob[0] = version;
        assert_eq!(
            cipher.open(&blob, HERE).unwrap_err(),
            OpenError::UnknownFormat { version }
        );
    }
}

#[test]
fn every_short_length_gives_an_error_not_a_panic() {
    let cipher = cipher();
    for len in 0..=41 {
        let mut blob = vec![0u8; len];
        if let Some(first) = blob.first_mut() {
            *first = 1;
        }
        let error = cipher.open(&blob, HERE).unwrap_err();
        let expected = if len < 41 {
            OpenError::Truncated { len }
        } else {
            // Long enough for an empty value, but the tag is wrong.
            OpenError::DoesNotOpen {
                table: "registries".to_owned(),
                column: "password".to_owned(),
                row: 7,
            }
        };
        assert_eq!(error, expected, "length {len}");

        // The same lengths with garbage content, through the text path too.
        let garbage = vec![0xa5u8; len];
        assert!(cipher.open_str(&garbage, HERE).is_err());
    }
}

#[test]
fn open_str_refuses_bytes_that_are_not_utf8() {
    let cipher = cipher();
    let blob = cipher.seal(&[0xff, 0xfe, 0x00], HERE);
    assert_eq!(
        cipher.open_str(&blob, HERE).unwrap_err(),
        OpenError::NotUtf8
    );
}

#[test]
fn a_cloned_cipher_opens_what_the_original_sealed() {
    let original = cipher();
    let blob = original.seal_str("shared", HERE);
    let clone = original.clone();
    drop(original);
    assert_eq!(clone.open_str(&blob, HERE).unwrap().expose(), "shared");
}
