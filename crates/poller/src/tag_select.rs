//! Choosing the tag a stage deploys from the tags a registry lists.
//!
//! A [`TagSelector`] combines a stage's [`TagRule`] with an optional exclude list and the tag
//! that runs now. Tags are ordered by version, never as text: `v1.10.0` is above `v1.9.0`, `1.2`
//! equals `1.2.0`, a `v` prefix does not count, pre-releases sit below their release and build
//! metadata (`+build.5`) is ignored.
//!
//! Docker tags often carry more than a version:
//!
//! - a variant suffix (`1.25-alpine`, `3.8.0-alpine3.10`): a family of its own. When something
//!   runs, only tags of its family are candidates: `1.12-alpine` is followed by `1.15-alpine`,
//!   not by `1.15`, `1.15-bookworm` or `1.15-alpine-perl`; `v1.9.0` by `v1.10.0`, not by
//!   `1.11.0` (unless [`TagSelector::across_families`]).
//! - a literal prefix (`dev-42`, `alpine-v15.7.1`): such tags are ordered by the version or the
//!   numbers after the prefix (`dev-9` < `dev-10`), but only when the accepted tags include no
//!   plain versions.
//!
//! Tags that cannot be ordered are never chosen by ordering: words (`latest`, `main`), commit
//! hashes (`3f9c2ab`, `main-3f9c2ab`), dates with the year last (`15-01-2024`) or a month name,
//! and prefixed tags without any number.

use std::cmp::Ordering;
use std::sync::LazyLock;

use regex::Regex;

use crate::tag_rule::TagRule;

/// What a stage wants from a list of tags.
#[derive(Debug, Clone)]
pub struct TagSelector {
    rule: TagRule,
    exclude: Option<Regex>,
    only_newer_than: Option<String>,
    across_families: bool,
}

impl TagSelector {
    /// Accepts what `rule` accepts; a version constraint also reads partial versions (`1.2`).
    pub fn new(rule: TagRule) -> TagSelector {
        TagSelector {
            rule,
            exclude: None,
            only_newer_than: None,
            across_families: false,
        }
    }

    /// Refuses the tags `exclude` matches as a whole, like a `tag_regex` does: `rc` excludes the
    /// tag `rc`, not `1.0-rc.1`.
    pub fn excluding(self, exclude: Regex) -> TagSelector {
        let anchored = Regex::new(&format!("^(?:{})$", exclude.as_str())).unwrap_or(exclude);
        TagSelector {
            exclude: Some(anchored),
            ..self
        }
    }

    /// Only chooses a tag newer than `running_tag`, the tag that runs now, and of its family
    /// (same prefix and suffix: `v1.9.0` → `v…`, `1.12-alpine` → `…-alpine`). When what runs
    /// cannot be ordered (`latest`, a commit hash) nothing is known to be newer, so
    /// [`TagSelector::newest`] chooses nothing. `None` means nothing runs.
    pub fn newer_than(self, running_tag: Option<&str>) -> TagSelector {
        TagSelector {
            only_newer_than: running_tag.map(str::to_string),
            ..self
        }
    }

    /// Lets [`TagSelector::newer_than`] move to another prefix or suffix style: from `v1.9.0`
    /// to `1.11.0`, or from `1.12-alpine` to `1.15`. Versions must still be newer.
    pub fn across_families(self) -> TagSelector {
        TagSelector {
            across_families: true,
            ..self
        }
    }

    /// Whether `tag` passes the rule and the exclude list.
    pub fn accepts(&self, tag: &str) -> bool {
        self.rule.accepts_lenient(tag) && !self.exclude.as_ref().is_some_and(|re| re.is_match(tag))
    }

    /// The accepted tags, newest first by version order; tags that cannot be ordered (commit
    /// hashes, `latest`, dates in odd formats) come last, in input order. Tags of equal versions
    /// (`1.2`, `1.2.0`) keep their input order; a repeated tag is listed once.
    pub fn sorted(&self, tags: &[String]) -> Vec<String> {
        let (ordered, rest) = self.order(tags);
        ordered
            .into_iter()
            .map(|(tag, _)| tag)
            .chain(rest)
            .map(str::to_string)
            .collect()
    }

    /// The one tag to deploy: the newest orderable accepted tag that is newer than what runs
    /// (and of its family), or `None` when nothing qualifies. Among equal versions the first
    /// listed wins.
    pub fn newest(&self, tags: &[String]) -> Option<String> {
        let (ordered, _) = self.order(tags);
        let Some(running) = &self.only_newer_than else {
            return ordered.first().map(|(tag, _)| tag.to_string());
        };
        let running = TagKey::read(running)?;
        let mut candidates: Vec<(&str, TagKey)> = self
            .accepted(tags)
            .into_iter()
            .filter_map(|tag| TagKey::read(tag).map(|key| (tag, key)))
            .filter(|(_, key)| {
                if self.across_families {
                    key.kind == running.kind
                } else {
                    key.family() == running.family()
                }
            })
            .filter(|(_, key)| key.version > running.version)
            .collect();
        candidates.sort_by(|a, b| b.1.version.cmp(&a.1.version));
        candidates.first().map(|(tag, _)| tag.to_string())
    }

    /// The accepted tags, each once, in input order.
    fn accepted<'t>(&self, tags: &'t [String]) -> Vec<&'t str> {
        let mut seen = std::collections::HashSet::new();
        tags.iter()
            .map(String::as_str)
            .filter(|tag| self.accepts(tag) && seen.insert(*tag))
            .collect()
    }

    /// The accepted tags that can be ordered, newest first, and the others in input order.
    /// Plain versions are ordered when there are any; otherwise prefixed tags are.
    fn order<'t>(&self, tags: &'t [String]) -> (Vec<(&'t str, TagKey)>, Vec<&'t str>) {
        let keyed: Vec<(&str, Option<TagKey>)> = self
            .accepted(tags)
            .into_iter()
            .map(|tag| (tag, TagKey::read(tag)))
            .collect();
        let kind = if keyed
            .iter()
            .any(|(_, key)| key.as_ref().is_some_and(|k| k.kind == Kind::Version))
        {
            Kind::Version
        } else {
            Kind::Prefixed
        };
        let mut ordered = Vec::new();
        let mut rest = Vec::new();
        for (tag, key) in keyed {
            match key {
                Some(key) if key.kind == kind => ordered.push((tag, key)),
                _ => rest.push(tag),
            }
        }
        // Stable: equal versions keep their input order.
        ordered.sort_by(|a, b| b.1.version.cmp(&a.1.version));
        (ordered, rest)
    }
}

/// Version order of tags: `v1.10.0` > `v1.9.0` (numeric, not lexical); `1.2` and `1.2.0` equal;
/// a `v` prefix ignored; pre-releases below their release (`1.3.0-rc.1` < `1.3.0`, `3.8.0b1` <
/// `3.8.0`); build metadata ignored. A variant suffix (`-alpine`) does not take part: compare
/// tags of one family. `None` when either is not a version (`latest`, a commit hash, `dev-42`).
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let a = TagKey::read(a).filter(|key| key.kind == Kind::Version)?;
    let b = TagKey::read(b).filter(|key| key.kind == Kind::Version)?;
    Some(a.version.cmp(&b.version))
}

/// Whether a tag is a version, possibly `v`-prefixed, or has another prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `1.2.3`, `v1.2`, `1.25-alpine`.
    Version,
    /// `dev-42`, `alpine-v15.7.1`, `2024-01-15`.
    Prefixed,
}

/// What ordering reads from a tag.
#[derive(Debug, Clone)]
struct TagKey {
    kind: Kind,
    /// Text before the version (`v` in lowercase, `dev-`, `alpine-v`).
    prefix: String,
    /// Text after the version: the variant (`alpine3.10`) or what follows the last number.
    suffix: String,
    version: TagVersion,
}

impl TagKey {
    /// The tag's ordering key, or `None` when it cannot be ordered.
    fn read(tag: &str) -> Option<TagKey> {
        if is_hash(tag) || ODD_DATE.is_match(tag) || MONTH.is_match(tag) {
            return None;
        }
        if let Some((prefix, version, variant)) = parse_version(tag) {
            return Some(TagKey {
                kind: Kind::Version,
                prefix: prefix.to_ascii_lowercase(),
                suffix: variant.to_string(),
                version,
            });
        }
        let start = tag.find(|c: char| c.is_ascii_digit())?;
        let (prefix, rest) = tag.split_at(start);
        if !is_hash(rest)
            && let Some(("", version, variant)) = parse_version(rest)
        {
            return Some(TagKey {
                kind: Kind::Prefixed,
                prefix: prefix.to_string(),
                suffix: variant.to_string(),
                version,
            });
        }
        // Only numbers: ordered by them, unless a part looks like a commit hash.
        if tag.split(|c: char| !c.is_ascii_alphanumeric()).any(is_hash) {
            return None;
        }
        let core = NUMBERS
            .find_iter(tag)
            .map(|m| m.as_str().parse::<u64>().ok())
            .collect::<Option<Vec<u64>>>()?;
        let end = NUMBERS.find_iter(tag).last().map_or(0, |m| m.end());
        Some(TagKey {
            kind: Kind::Prefixed,
            prefix: prefix.to_string(),
            suffix: tag[end..].to_string(),
            version: TagVersion { core, pre: vec![] },
        })
    }

    fn family(&self) -> (Kind, &str, &str) {
        (self.kind, &self.prefix, &self.suffix)
    }
}

/// A version read leniently: any number of numeric parts, and a pre-release. Missing parts
/// count as zero, so `1.2` equals `1.2.0`.
#[derive(Debug, Clone)]
struct TagVersion {
    core: Vec<u64>,
    /// Pre-release identifiers; empty for a release.
    pre: Vec<Identifier>,
}

/// One pre-release identifier; numbers sort below words, as in semantic versioning.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Identifier {
    Number(u64),
    Word(String),
}

impl Ord for TagVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let parts = self.core.len().max(other.core.len());
        let part = |core: &[u64], i: usize| core.get(i).copied().unwrap_or(0);
        (0..parts)
            .map(|i| part(&self.core, i).cmp(&part(&other.core, i)))
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialEq for TagVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for TagVersion {}

impl PartialOrd for TagVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A version with an optional `v`, one to four numbers, an optional pre-release (glued like
/// `3.8.0b1` or after a hyphen like `-rc.1` and `-64.272fa09`), an optional variant starting
/// with a letter (`-alpine3.10`) and optional build metadata.
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?P<v>[vV])?(?P<core>[0-9]+(?:\.[0-9]+){0,3})",
        r"(?P<glued>(?i:alpha|beta|rc|pre|preview|dev|a|b|c|m)\.?[0-9]*)?",
        r"(?:-(?P<pre>",
        r"(?i:alpha|beta|rc|pre|preview|snapshot|dev|canary|nightly|milestone|next|a|b|m)",
        r"(?:[.-]?[0-9]+)*(?:\.[0-9A-Za-z]+)*",
        r"|[0-9]+\.[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*",
        r"))?",
        r"(?:-(?P<variant>[A-Za-z][0-9A-Za-z._-]*))?",
        r"(?:\+(?P<build>[0-9A-Za-z.-]+))?$",
    ))
    .expect("the version expression is valid")
});

/// Dates whose year comes last (`15-01-2024`, `1.2.2024`): day and month cannot be told apart.
static ODD_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9])[0-9]{1,2}[-._/][0-9]{1,2}[-._/](?:19|20)[0-9]{2}(?:$|[^0-9])")
        .expect("the date expression is valid")
});

/// Month names (`jan-2024`, `15-March-2024`).
static MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^a-z])(?:jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december)(?:$|[^a-z])",
    )
    .expect("the month expression is valid")
});

static NUMBERS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("[0-9]+").expect("the number expression is valid"));

/// Reads `tag` as `[v]version[-variant]`: the prefix (`v` or empty), the version and the variant.
fn parse_version(tag: &str) -> Option<(&str, TagVersion, &str)> {
    let caps = VERSION.captures(tag)?;
    let core = caps["core"]
        .split('.')
        .map(|part| part.parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    let mut pre = Vec::new();
    for text in [caps.name("glued"), caps.name("pre")].into_iter().flatten() {
        pre.extend(identifiers(text.as_str())?);
    }
    let prefix = caps.name("v").map_or("", |m| m.as_str());
    let variant = caps.name("variant").map_or("", |m| m.as_str());
    Some((prefix, TagVersion { core, pre }, variant))
}

/// Pre-release identifiers: split at dots, hyphens and between letters and digits (`rc10` →
/// `rc`, `10`), lowercase, with `a`, `b`, `c` spelled out (`3.8.0b1` is a beta).
fn identifiers(text: &str) -> Option<Vec<Identifier>> {
    let mut out = Vec::new();
    for field in text.split(['.', '-']).filter(|f| !f.is_empty()) {
        let mut rest = field;
        while let Some(first) = rest.chars().next() {
            let digits = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(rest.len());
            let (chunk, tail) = rest.split_at(end);
            out.push(if digits {
                Identifier::Number(chunk.parse().ok()?)
            } else {
                Identifier::Word(match chunk.to_ascii_lowercase().as_str() {
                    "a" => "alpha".to_string(),
                    "b" => "beta".to_string(),
                    "c" => "rc".to_string(),
                    word => word.to_string(),
                })
            });
            rest = tail;
        }
    }
    Some(out)
}

/// Whether `text` looks like an abbreviated or full commit hash: 7 to 64 hexadecimal digits with
/// both a letter and a digit.
fn is_hash(text: &str) -> bool {
    (7..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b.is_ascii_alphabetic())
        && text.bytes().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(tag: &str) -> TagVersion {
        TagKey::read(tag).expect(tag).version
    }

    #[test]
    fn reads_the_parts_of_a_tag() {
        let key = TagKey::read("v1.7.13-alpine").unwrap();
        assert_eq!((key.kind, key.prefix.as_str()), (Kind::Version, "v"));
        assert_eq!(key.suffix, "alpine");
        assert_eq!(key.version.core, vec![1, 7, 13]);
        let beta = TagKey::read("3.8.0b1-alpine3.10").unwrap();
        assert_eq!(beta.suffix, "alpine3.10");
        assert_eq!(
            beta.version.pre,
            vec![Identifier::Word("beta".into()), Identifier::Number(1)]
        );
        let dev = TagKey::read("dev-42").unwrap();
        assert_eq!((dev.kind, dev.prefix.as_str()), (Kind::Prefixed, "dev-"));
        let diun = TagKey::read("alpine-v15.7.1").unwrap();
        assert_eq!(diun.prefix, "alpine-v");
        assert_eq!(diun.version.core, vec![15, 7, 1]);
        assert_eq!(version("1.0-rc1-alpine").pre.len(), 2);
        assert!(version("1.0-bookworm").pre.is_empty());
    }

    #[test]
    fn refuses_what_cannot_be_ordered() {
        for tag in [
            "latest",
            "3f9c2ab",
            "12345b6",
            "main-3f9c2ab",
            "sha-0123456789abcdef0123456789abcdef01234567",
            "15-01-2024",
            "build-1.2.2024",
            "jan-2024",
            "nightly",
        ] {
            assert!(TagKey::read(tag).is_none(), "{tag}");
        }
        assert!(TagKey::read("2024-01-15").is_some());
        assert!(TagKey::read("1234567").is_some());
    }

    #[test]
    fn rc_numbers_compare_as_numbers() {
        assert!(version("1.0.0-rc.10") > version("1.0.0-rc.9"));
        assert!(version("1.0.0rc10") > version("1.0.0rc2"));
        assert!(version("1.0.0-alpha") < version("1.0.0-beta"));
        assert!(version("1.0.0-beta.2") < version("1.0.0-rc.1"));
        assert_eq!(version("1.0.0+build.9"), version("1.0.0+build.1"));
    }
}
