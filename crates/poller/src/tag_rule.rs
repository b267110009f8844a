//! A stage's tag rule: which tags it accepts, by glob, regular expression or semantic-version
//! constraint. One definition serves both checking a configuration and matching pushed tags.

use globset::{Glob, GlobMatcher};
use regex::Regex;
use semver::{Version, VersionReq};

/// A checked tag rule.
#[derive(Debug, Clone)]
pub enum TagRule {
    /// A glob over the whole tag, such as `dev-*`.
    Glob(GlobMatcher),
    /// A regular expression that must match the whole tag.
    Regex(Regex),
    /// A semantic-version constraint such as `>=1.2, <2`; tags may carry a `v` prefix.
    Semver {
        /// The constraint.
        requirement: VersionReq,
        /// Whether pre-releases (`1.3.0-rc.1`) may satisfy it.
        include_prerelease: bool,
    },
}

/// Why a tag rule is unusable; the message names the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagRuleError {
    /// None of the three rules was given.
    #[error(
        "a stage needs one tag rule: tag_pattern (a glob such as \"dev-*\"), tag_regex or tag_semver"
    )]
    Missing,
    /// More than one rule was given.
    #[error("give only one of tag_pattern, tag_regex and tag_semver")]
    Several,
    /// The glob does not parse.
    #[error("invalid glob {pattern:?}: {message}")]
    Glob {
        /// The glob.
        pattern: String,
        /// Why.
        message: String,
    },
    /// The regular expression does not parse.
    #[error("invalid regular expression {pattern:?}: {message}")]
    Regex {
        /// The expression.
        pattern: String,
        /// Why.
        message: String,
    },
    /// The version constraint does not parse.
    #[error("invalid version constraint {pattern:?}: {message}")]
    Semver {
        /// The constraint.
        pattern: String,
        /// Why.
        message: String,
    },
}

impl TagRule {
    /// Builds the rule from a stage's three optional fields, exactly one of which must be set.
    pub fn new(
        glob: Option<&str>,
        regex: Option<&str>,
        semver: Option<&str>,
        include_prerelease: bool,
    ) -> Result<TagRule, TagRuleError> {
        match (glob, regex, semver) {
            (None, None, None) => Err(TagRuleError::Missing),
            (Some(pattern), None, None) => Glob::new(pattern)
                .map(|glob| TagRule::Glob(glob.compile_matcher()))
                .map_err(|error| TagRuleError::Glob {
                    pattern: pattern.to_string(),
                    message: error.kind().to_string(),
                }),
            (None, Some(pattern), None) => Regex::new(&format!("^(?:{pattern})$"))
                .map(TagRule::Regex)
                .map_err(|error| TagRuleError::Regex {
                    pattern: pattern.to_string(),
                    message: first_line(&error.to_string()),
                }),
            (None, None, Some(pattern)) => VersionReq::parse(pattern)
                .map(|requirement| TagRule::Semver {
                    requirement,
                    include_prerelease,
                })
                .map_err(|error| TagRuleError::Semver {
                    pattern: pattern.to_string(),
                    message: error.to_string(),
                }),
            _ => Err(TagRuleError::Several),
        }
    }

    /// Whether the rule accepts `tag`.
    pub fn accepts(&self, tag: &str) -> bool {
        self.accepts_with(tag, tag_version)
    }

    /// Like [`TagRule::accepts`], but a version constraint also reads partial versions: `1` as
    /// `1.0.0` and `v1.2` as `1.2.0` (see [`lenient_tag_version`]).
    pub fn accepts_lenient(&self, tag: &str) -> bool {
        self.accepts_with(tag, lenient_tag_version)
    }

    fn accepts_with(&self, tag: &str, read: fn(&str) -> Option<Version>) -> bool {
        match self {
            TagRule::Glob(glob) => glob.is_match(tag),
            TagRule::Regex(regex) => regex.is_match(tag),
            TagRule::Semver {
                requirement,
                include_prerelease,
            } => match read(tag) {
                // A tag that is not a version (a commit hash, `latest`) never satisfies a constraint.
                None => false,
                Some(version) if !version.pre.is_empty() && !include_prerelease => false,
                Some(version) if !version.pre.is_empty() => {
                    // semver only lets a pre-release match a requirement naming the same
                    // major.minor.patch; a stage that opts in wants any pre-release in range.
                    let release = Version::new(version.major, version.minor, version.patch);
                    requirement.matches(&version) || requirement.matches(&release)
                }
                Some(version) => requirement.matches(&version),
            },
        }
    }
}

/// The version a tag names, with or without a `v` prefix.
pub fn tag_version(tag: &str) -> Option<Version> {
    let bare = tag
        .strip_prefix('v')
        .or_else(|| tag.strip_prefix('V'))
        .unwrap_or(tag);
    Version::parse(bare).ok()
}

/// The version a tag names like [`tag_version`], but also when it gives only one or two numbers:
/// `1` reads as `1.0.0`, `v1.2-rc.1` as `1.2.0-rc.1`. Commit hashes and words stay `None`.
pub fn lenient_tag_version(tag: &str) -> Option<Version> {
    if let Some(version) = tag_version(tag) {
        return Some(version);
    }
    let bare = tag
        .strip_prefix('v')
        .or_else(|| tag.strip_prefix('V'))
        .unwrap_or(tag);
    let end = bare.find(['-', '+']).unwrap_or(bare.len());
    let (core, rest) = bare.split_at(end);
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if parts.len() > 3 || !parts.iter().all(numeric) {
        return None;
    }
    let mut padded = core.to_string();
    for _ in parts.len()..3 {
        padded.push_str(".0");
    }
    Version::parse(&format!("{padded}{rest}")).ok()
}

fn first_line(text: &str) -> String {
    text.lines().last().unwrap_or(text).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(glob: Option<&str>, regex: Option<&str>, semver: Option<&str>, pre: bool) -> TagRule {
        TagRule::new(glob, regex, semver, pre).unwrap()
    }

    #[test]
    fn globs_match_the_whole_tag() {
        let dev = rule(Some("dev-*"), None, None, false);
        assert!(dev.accepts("dev-42"));
        assert!(!dev.accepts("1.0.0"));
        assert!(!dev.accepts("xdev-1"));
    }

    #[test]
    fn regexes_are_anchored() {
        let release = rule(None, Some(r"release-\d+"), None, false);
        assert!(release.accepts("release-12"));
        assert!(!release.accepts("release-12-hotfix"));
        assert!(!release.accepts("pre-release-12"));
    }

    #[test]
    fn semver_constraints_accept_v_prefixes_and_skip_prereleases_unless_asked() {
        let stable = rule(None, None, Some(">=1.0.0"), false);
        assert!(stable.accepts("1.0.0"));
        assert!(stable.accepts("v1.10.3"));
        assert!(!stable.accepts("0.9.0"));
        assert!(!stable.accepts("1.2.0-rc.1"));
        assert!(!stable.accepts("latest"));
        assert!(!stable.accepts("3f9c2ab"));
        let with_pre = rule(None, None, Some(">=1.0.0"), true);
        assert!(with_pre.accepts("1.2.0-rc.1"));
        let caret = rule(None, None, Some("^1.2"), false);
        assert!(caret.accepts("1.9.0") && !caret.accepts("2.0.0") && !caret.accepts("1.1.9"));
        let range = rule(None, None, Some(">=2, <3"), false);
        assert!(range.accepts("v2.5.1") && !range.accepts("3.0.0"));
    }

    #[test]
    fn lenient_reading_pads_partial_versions_only() {
        assert_eq!(lenient_tag_version("1"), Some(Version::new(1, 0, 0)));
        assert_eq!(lenient_tag_version("v1.2"), Some(Version::new(1, 2, 0)));
        assert_eq!(
            lenient_tag_version("1.2-rc.1").map(|v| v.to_string()),
            Some("1.2.0-rc.1".to_string())
        );
        for not_a_version in ["latest", "3f9c2ab", "1.2.3.4", "1..2", "", "v", "01.2"] {
            assert_eq!(lenient_tag_version(not_a_version), None, "{not_a_version}");
        }
        let stable = rule(None, None, Some(">=1.0.0"), false);
        assert!(!stable.accepts("1.2") && stable.accepts_lenient("1.2"));
        assert!(stable.accepts_lenient("v2") && !stable.accepts_lenient("0.9"));
        assert!(!stable.accepts_lenient("1.3-rc.1") && !stable.accepts_lenient("latest"));
        let dev = rule(Some("dev-*"), None, None, false);
        assert!(dev.accepts_lenient("dev-1") && !dev.accepts_lenient("1.0"));
    }

    #[test]
    fn bad_rules_name_what_is_wrong() {
        assert_eq!(
            TagRule::new(None, None, None, false).unwrap_err(),
            TagRuleError::Missing
        );
        assert_eq!(
            TagRule::new(Some("*"), None, Some("1"), false).unwrap_err(),
            TagRuleError::Several
        );
        let glob = TagRule::new(Some("[a"), None, None, false)
            .unwrap_err()
            .to_string();
        assert!(glob.starts_with("invalid glob \"[a\""), "{glob}");
        let regex = TagRule::new(None, Some("(a"), None, false)
            .unwrap_err()
            .to_string();
        assert!(
            regex.starts_with("invalid regular expression \"(a\""),
            "{regex}"
        );
        let semver = TagRule::new(None, None, Some(">=x"), false)
            .unwrap_err()
            .to_string();
        assert!(
            semver.starts_with("invalid version constraint \">=x\""),
            "{semver}"
        );
    }
}
