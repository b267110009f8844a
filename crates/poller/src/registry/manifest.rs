//! Manifest digests: what a tag points at now, the value the poller compares to notice a push.
//!
//! A `HEAD` answers with `Docker-Content-Digest` and costs nothing on Docker Hub's pull limit;
//! only when a registry leaves that header out (it is optional) is the manifest fetched and
//! hashed.

use sha2::{Digest, Sha256};

use super::client::{Call, Method, RegistryClient, Reply};
use super::error::RegistryError;

/// Every manifest type the poller understands, indexes first. The same list goes with `HEAD`
/// and `GET`, because the digest depends on which representation the registry serves: without
/// the index types a registry may answer with one platform's manifest (whose digest never
/// matches the index digest `docker pull` recorded), and some registries answer 404 when the
/// image's own type is missing.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Docker's legacy schema 1 types: signed JSON whose digest is not the hash of the bytes served.
const SCHEMA1_TYPES: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

impl RegistryClient {
    /// The digest (`sha256:…`) `reference` (a tag, or a digest) of `repository` points at: the
    /// index digest for multi-platform images, as `docker inspect` shows in `RepoDigests`.
    pub fn digest(&self, repository: &str, reference: &str) -> Result<String, RegistryError> {
        let separator = if reference.contains(':') { '@' } else { ':' };
        let operation = format!("digest of {repository}{separator}{reference}");
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.origin());
        let call = |method| Call {
            operation: &operation,
            method,
            url: &url,
            accept: Some(MANIFEST_ACCEPT),
            repository: Some(repository),
        };

        let head = self.request(&call(Method::Head))?;
        self.expect_manifest(&operation, &url, &head)?;
        if let Some(digest) = head
            .header("docker-content-digest")
            .map(str::trim)
            .filter(|digest| is_digest(digest))
        {
            return Ok(digest.to_owned());
        }

        log::debug!(
            "registry {}: {operation}: no Docker-Content-Digest, fetching the manifest",
            self.registry()
        );
        let get = self.request(&call(Method::Get))?;
        self.expect_manifest(&operation, &url, &get)?;
        if body_is_schema1(&get.body) {
            return Err(RegistryError::Schema1 {
                registry: self.registry().to_owned(),
                operation,
                media_type: "schemaVersion 1".to_owned(),
            });
        }
        Ok(sha256_digest(&get.body))
    }

    /// Turns anything but a usable manifest answer into the matching error.
    fn expect_manifest(
        &self,
        operation: &str,
        url: &str,
        reply: &Reply,
    ) -> Result<(), RegistryError> {
        match reply.status {
            200 => {}
            404 => {
                return Err(RegistryError::ManifestUnknown {
                    registry: self.registry().to_owned(),
                    operation: operation.to_owned(),
                });
            }
            status => return Err(self.status_error(operation, url, status, &reply.body)),
        }
        let media_type = reply
            .header("content-type")
            .and_then(|value| value.split(';').next())
            .map(str::trim)
            .unwrap_or_default();
        if SCHEMA1_TYPES
            .iter()
            .any(|schema1| schema1.eq_ignore_ascii_case(media_type))
        {
            return Err(RegistryError::Schema1 {
                registry: self.registry().to_owned(),
                operation: operation.to_owned(),
                media_type: media_type.to_owned(),
            });
        }
        Ok(())
    }
}

/// `sha256:` and the hex hash of the bytes exactly as received: parsing and re-serialising the
/// JSON would change whitespace or key order and with them the digest.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut digest = String::with_capacity(7 + 64);
    digest.push_str("sha256:");
    for byte in hash {
        digest.push_str(&format!("{byte:02x}"));
    }
    digest
}

/// Whether `value` is `algorithm:hex` with a hash length registries use.
fn is_digest(value: &str) -> bool {
    let Some((algorithm, hex)) = value.split_once(':') else {
        return false;
    };
    let length = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == length
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A schema 1 manifest served without its media type still says `"schemaVersion": 1`.
fn body_is_schema1(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Version {
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u64>,
    }
    serde_json::from_slice::<Version>(body).is_ok_and(|v| v.schema_version == Some(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_hash_the_exact_bytes() {
        assert_eq!(
            sha256_digest(b"{}"),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // The same JSON with other whitespace is another manifest as far as digests go.
        assert_ne!(sha256_digest(b"{ }"), sha256_digest(b"{}"));
    }

    #[test]
    fn digest_headers_are_validated() {
        assert!(is_digest(
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        ));
        assert!(!is_digest("sha256:44136FA355"));
        assert!(!is_digest(
            "sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A"
        ));
        assert!(!is_digest("md5:d41d8cd98f00b204e9800998ecf8427e"));
        assert!(!is_digest(""));
    }

    #[test]
    fn the_accept_list_names_all_four_types() {
        let types: Vec<&str> = MANIFEST_ACCEPT.split(", ").collect();
        assert_eq!(
            types,
            [
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json",
            ]
        );
    }

    #[test]
    fn schema1_bodies_are_recognised() {
        assert!(body_is_schema1(
            br#"{"schemaVersion":1,"name":"a","fsLayers":[]}"#
        ));
        assert!(!body_is_schema1(br#"{"schemaVersion":2}"#));
        assert!(!body_is_schema1(b"not json"));
    }
}
