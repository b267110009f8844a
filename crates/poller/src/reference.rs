//! Docker image references: `[registry/]repository[:tag][@digest]`, read the way
//! `docker pull` reads them and printed in one canonical, fully qualified form.

mod grammar;

use std::fmt;
use std::str::FromStr;

const DOCKER_HUB: &str = "docker.io";
// Older clients wrote Docker Hub this way; both name the same images.
const DOCKER_HUB_LEGACY: &str = "index.docker.io";
// Docker Hub's registry API is not served from the name users write.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
const OFFICIAL_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";
const NAME_MAX: usize = 255;
/// Digest algorithms registries accept, with the length of their hex encoding.
const DIGEST_ALGORITHMS: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

/// Why a string is not a usable image reference. Every message quotes the input.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid image reference \"\": it is empty")]
    Empty,
    #[error("invalid image reference {input:?}: it has no repository name")]
    MissingRepository { input: String },
    #[error("invalid image reference {input:?}: 64 hex characters are an image id, not a name")]
    ImageId { input: String },
    #[error("invalid image reference {input:?}: registry {registry:?} is not a valid host[:port]")]
    InvalidRegistry { input: String, registry: String },
    #[error("invalid image reference {input:?}: repository name must be lowercase")]
    Uppercase { input: String },
    #[error(
        "invalid image reference {input:?}: path component {component:?} must be lowercase \
         letters and digits, joined only by single '.', '_' or '__', or by dashes"
    )]
    InvalidPathComponent { input: String, component: String },
    #[error(
        "invalid image reference {input:?}: name is {length} characters long, at most 255 are allowed"
    )]
    NameTooLong { input: String, length: usize },
    #[error(
        "invalid image reference {input:?}: tag {tag:?} must be 1 to 128 letters, digits, \
         '_', '.' or '-', not starting with '.' or '-'"
    )]
    InvalidTag { input: String, tag: String },
    #[error(
        "invalid image reference {input:?}: digest {digest:?} is not of the form algorithm:hex"
    )]
    MalformedDigest { input: String, digest: String },
    #[error(
        "invalid image reference {input:?}: digest algorithm {algorithm:?} is not supported (sha256, sha384, sha512)"
    )]
    UnsupportedDigest { input: String, algorithm: String },
    #[error(
        "invalid image reference {input:?}: a {algorithm} digest is exactly {hex_len} lowercase hex characters"
    )]
    DigestEncoding {
        input: String,
        algorithm: String,
        hex_len: usize,
    },
    #[error("invalid image name {input:?}: a name must not include a tag (found {tag:?})")]
    TagNotAllowed { input: String, tag: String },
    #[error("invalid image name {input:?}: a name must not include a digest (found {digest:?})")]
    DigestNotAllowed { input: String, digest: String },
    #[error("image {input:?} is on registry {registry:?}, not on {expected:?}")]
    OtherRegistry {
        input: String,
        registry: String,
        expected: String,
    },
}

/// A repository in a registry, without tag or digest: what a project is configured to watch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageName {
    registry: String,
    repository: String,
}

impl ImageName {
    /// Parses a name such as `alpine`, `acme/web` or `localhost:5000/team/api`; a tag or
    /// digest is an error, since a project's image must be free to take any tag.
    pub fn parse(s: &str) -> Result<ImageName, ReferenceError> {
        let parsed = parse_parts(s)?;
        if let Some(tag) = parsed.tag {
            return Err(ReferenceError::TagNotAllowed {
                input: s.to_owned(),
                tag,
            });
        }
        if let Some(digest) = parsed.digest {
            return Err(ReferenceError::DigestNotAllowed {
                input: s.to_owned(),
                digest,
            });
        }
        Ok(parsed.name)
    }

    /// Parses a name that belongs to `registry`: either a bare repository (`team/api`, read as
    /// a path on that registry) or a full name that names that same registry. A full name on
    /// another registry is an error rather than a repository path with a host inside it.
    pub fn parse_on(registry: &str, s: &str) -> Result<ImageName, ReferenceError> {
        // Checked as written first, so errors quote what the caller wrote.
        let name = ImageName::parse(s)?;
        if written_registry(s).is_none() {
            return ImageName::parse(&format!("{registry}/{s}"));
        }
        let expected = ImageName::parse(&format!("{registry}/x"))?;
        if name.registry != expected.registry {
            return Err(ReferenceError::OtherRegistry {
                input: s.to_owned(),
                registry: name.registry,
                expected: expected.registry,
            });
        }
        Ok(name)
    }

    /// The registry as users write it: `docker.io`, `ghcr.io`, `localhost:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry: `library/alpine`, `team/api`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The host serving the registry HTTP API, which for Docker Hub differs from its name.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

impl FromStr for ImageName {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageName::parse(s)
    }
}

/// One image: a name plus a tag, a digest, or both.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageReference {
    name: ImageName,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageReference {
    /// Parses any reference `docker pull` accepts; with neither tag nor digest the tag is
    /// `latest`, as Docker assumes.
    pub fn parse(s: &str) -> Result<ImageReference, ReferenceError> {
        let Parts { name, tag, digest } = parse_parts(s)?;
        let tag = match (tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_owned()),
            (tag, _) => tag,
        };
        Ok(ImageReference { name, tag, digest })
    }

    /// The reference to `tag` of an already validated name.
    pub fn with_tag(name: &ImageName, tag: &str) -> Result<ImageReference, ReferenceError> {
        if !grammar::is_tag(tag) {
            return Err(ReferenceError::InvalidTag {
                input: format!("{name}:{tag}"),
                tag: tag.to_owned(),
            });
        }
        Ok(ImageReference {
            name: name.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    pub fn name(&self) -> &ImageName {
        &self.name
    }

    pub fn registry(&self) -> &str {
        self.name.registry()
    }

    pub fn repository(&self) -> &str {
        self.name.repository()
    }

    /// The tag, exactly as written (tags are case-sensitive); `None` for a digest-only reference.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The content digest, e.g. `sha256:<64 hex>`.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The registry API path of this image's manifest. A digest wins over a tag because it
    /// names exactly one manifest, while a tag can move.
    pub fn manifest_path(&self) -> String {
        let reference = self
            .digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or(DEFAULT_TAG);
        format!("/v2/{}/manifests/{reference}", self.name.repository)
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for ImageReference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageReference::parse(s)
    }
}

/// A reference taken apart and validated, before any default tag is applied.
struct Parts {
    name: ImageName,
    tag: Option<String>,
    digest: Option<String>,
}

fn parse_parts(input: &str) -> Result<Parts, ReferenceError> {
    let owned = || input.to_owned();
    if input.is_empty() {
        return Err(ReferenceError::Empty);
    }
    if input.len() == 64 && grammar::is_lower_hex(input) {
        return Err(ReferenceError::ImageId { input: owned() });
    }

    // The digest goes first: its own `:` must not be mistaken for a tag separator.
    let (rest, digest) = match input.split_once('@') {
        Some((rest, digest)) => (rest, Some(validate_digest(input, digest)?)),
        None => (input, None),
    };
    // A `:` before the last `/` is a registry port, never a tag.
    let last_component = rest.rfind('/').map_or(0, |slash| slash + 1);
    let (name, tag) = match rest[last_component..].find(':') {
        Some(colon) => {
            let colon = last_component + colon;
            (&rest[..colon], Some(&rest[colon + 1..]))
        }
        None => (rest, None),
    };
    if name.is_empty() {
        return Err(ReferenceError::MissingRepository { input: owned() });
    }

    let (registry, repository) = split_registry(name);
    if !grammar::is_registry(registry) {
        return Err(ReferenceError::InvalidRegistry {
            input: owned(),
            registry: registry.to_owned(),
        });
    }
    let registry = if registry == DOCKER_HUB_LEGACY {
        DOCKER_HUB
    } else {
        registry
    };
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("{OFFICIAL_PREFIX}{repository}")
    } else {
        repository.to_owned()
    };

    // Checked before the component grammar so that `Foo/Bar` gets the helpful message.
    if repository.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceError::Uppercase { input: owned() });
    }
    if let Some(component) = repository
        .split('/')
        .find(|component| !grammar::is_path_component(component))
    {
        return Err(ReferenceError::InvalidPathComponent {
            input: owned(),
            component: component.to_owned(),
        });
    }
    let length = registry.len() + 1 + repository.len();
    if length > NAME_MAX {
        return Err(ReferenceError::NameTooLong {
            input: owned(),
            length,
        });
    }
    if let Some(tag) = tag
        && !grammar::is_tag(tag)
    {
        return Err(ReferenceError::InvalidTag {
            input: owned(),
            tag: tag.to_owned(),
        });
    }

    Ok(Parts {
        name: ImageName {
            registry: registry.to_owned(),
            repository,
        },
        tag: tag.map(str::to_owned),
        digest,
    })
}

/// The first component names a registry only if it looks like a host: it has a dot or a
/// port, or is `localhost`. Otherwise (`acme/web`) the whole name is a Docker Hub repository.
fn split_registry(name: &str) -> (&str, &str) {
    match written_registry(name) {
        Some(registry) => (registry, &name[registry.len() + 1..]),
        None => (DOCKER_HUB, name),
    }
}

/// The registry host a name starts with, if it names one: like `docker pull`, a first path
/// component counts as a host only when it has a `.` or `:` or is `localhost`.
fn written_registry(name: &str) -> Option<&str> {
    let (first, _) = name.split_once('/')?;
    (first.contains(['.', ':']) || first == "localhost").then_some(first)
}

fn validate_digest(input: &str, digest: &str) -> Result<String, ReferenceError> {
    let malformed = || ReferenceError::MalformedDigest {
        input: input.to_owned(),
        digest: digest.to_owned(),
    };
    let (algorithm, encoded) = digest.split_once(':').ok_or_else(malformed)?;
    if !grammar::is_digest_algorithm(algorithm) || encoded.is_empty() {
        return Err(malformed());
    }
    let Some(&(_, hex_len)) = DIGEST_ALGORITHMS
        .iter()
        .find(|(name, _)| *name == algorithm)
    else {
        return Err(ReferenceError::UnsupportedDigest {
            input: input.to_owned(),
            algorithm: algorithm.to_owned(),
        });
    };
    if encoded.len() != hex_len || !grammar::is_lower_hex(encoded) {
        return Err(ReferenceError::DigestEncoding {
            input: input.to_owned(),
            algorithm: algorithm.to_owned(),
            hex_len,
        });
    }
    Ok(digest.to_owned())
}
