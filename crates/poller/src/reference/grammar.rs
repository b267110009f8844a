//! The character-level rules of the Docker reference grammar (distribution/reference),
//! written out by hand so the crate needs no regex engine.

/// Longest tag the grammar allows: one leading word character plus up to 127 more.
const TAG_MAX: usize = 128;

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
pub(super) fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let mut i = 0;
    loop {
        let run = i;
        while i < bytes.len() && is_lower_alnum(bytes[i]) {
            i += 1;
        }
        // Every separator must sit between two alphanumeric runs, so an empty run is an error:
        // that covers the empty string and leading, trailing or doubled separators.
        if i == run {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let separator = i;
        while i < bytes.len() && !is_lower_alnum(bytes[i]) {
            i += 1;
        }
        if !is_separator(&component[separator..i]) {
            return false;
        }
    }
}

fn is_separator(separator: &str) -> bool {
    matches!(separator, "." | "_" | "__")
        || (!separator.is_empty() && separator.bytes().all(|b| b == b'-'))
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[\w][\w.-]{0,127}`
pub(super) fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    tag.len() <= TAG_MAX && is_word(first) && bytes.all(|b| is_word(b) || b == b'.' || b == b'-')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `host[:port]`, where host is a DNS name, an IPv4 address or a bracketed IPv6 address.
pub(super) fn is_registry(registry: &str) -> bool {
    if let Some(bracketed) = registry.strip_prefix('[') {
        let Some((address, rest)) = bracketed.split_once(']') else {
            return false;
        };
        let address_ok =
            !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
        let port_ok = rest.is_empty() || rest.strip_prefix(':').is_some_and(is_port);
        return address_ok && port_ok;
    }
    match registry.split_once(':') {
        Some((host, port)) => is_host(host) && is_port(port),
        None => is_host(registry),
    }
}

/// Dot-separated labels of letters, digits and inner dashes; IPv4 addresses match too.
fn is_host(host: &str) -> bool {
    host.split('.').all(|label| {
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                first.is_ascii_alphanumeric()
                    && last.is_ascii_alphanumeric()
                    && bytes
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            }
            _ => false,
        }
    })
}

fn is_port(port: &str) -> bool {
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
}

/// `[A-Za-z][A-Za-z0-9]*` components joined by one of `+._-`.
pub(super) fn is_digest_algorithm(algorithm: &str) -> bool {
    algorithm.split(['+', '.', '_', '-']).all(|component| {
        let mut bytes = component.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric())
    })
}

/// The encoding every supported digest algorithm uses.
pub(super) fn is_lower_hex(encoded: &str) -> bool {
    encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_component_separators() {
        for ok in ["a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b-c_d"] {
            assert!(is_path_component(ok), "{ok:?} should be valid");
        }
        for bad in [
            "", "-a", "a-", ".a", "a.", "a..b", "a___b", "a-.b", "a.-b", "A", "a b", "a:b",
        ] {
            assert!(!is_path_component(bad), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn tag_rules() {
        for ok in ["latest", "V1.0-RC", "_x", "1", &"a".repeat(128)] {
            assert!(is_tag(ok), "{ok:?} should be valid");
        }
        for bad in ["", ".a", "-a", "a/b", "a:b", "a b", &"a".repeat(129)] {
            assert!(!is_tag(bad), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn registry_rules() {
        for ok in [
            "docker.io",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "[fe80::1]",
            "My-Host.example.com",
        ] {
            assert!(is_registry(ok), "{ok:?} should be valid");
        }
        for bad in [
            "",
            ":5000",
            "host:",
            "host:50a",
            "-host.com",
            "host-.com",
            "a..b",
            "[]:5000",
            "[::1",
            "[::1]5000",
        ] {
            assert!(!is_registry(bad), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn digest_algorithm_rules() {
        for ok in ["sha256", "sha512", "multihash+base58", "a.b_c-d"] {
            assert!(is_digest_algorithm(ok), "{ok:?} should be valid");
        }
        for bad in ["", "256sha", "sha 256", "sha256+", "+sha"] {
            assert!(!is_digest_algorithm(bad), "{bad:?} should be invalid");
        }
    }
}
