//! The domain names instances are reached at (PRODUCT.md's "Subdomains"): a stage's main
//! subdomain from the settings' pattern (`stage-{stage}-{project}` by default) or the stage's own
//! `subdomain`, and `…-{tag}` for an extra instance of one tag. Every generated label is DNS-safe
//! and at most 63 characters; a label that had to be cut ends in a short hash of the whole, so two
//! long names that share a beginning stay apart.

use sha2::{Digest, Sha256};

use crate::naming::slug;

/// The longest DNS label (RFC 1035).
pub const MAX_LABEL: usize = 63;
/// Hex digits of the hash that keeps cut labels apart.
const HASH_LEN: usize = 6;

/// `text` as one DNS label: [`slug`], then cut to [`MAX_LABEL`] with a hash of the uncut label.
pub fn dns_label(text: &str) -> String {
    let label = slug(text);
    if label.len() <= MAX_LABEL {
        return label;
    }
    let hash = hex_prefix(&Sha256::digest(label.as_bytes()), HASH_LEN);
    // The slug is ASCII, so byte offsets are character offsets.
    let kept = label[..MAX_LABEL - HASH_LEN - 1].trim_end_matches('-');
    format!("{kept}-{hash}")
}

/// The stage's main domain. A stage's own `subdomain` wins: with a dot it is a whole domain
/// (`shop.example.com`), without one a label on the base domain. Otherwise the settings'
/// pattern, with `{stage}` and `{project}` filled in, on the base domain.
pub fn stage_domain(
    pattern: &str,
    base_domain: &str,
    project: &str,
    stage: &str,
    custom: Option<&str>,
) -> String {
    if let Some(custom) = custom.map(str::trim).filter(|custom| !custom.is_empty()) {
        let custom = custom.trim_end_matches('.').to_ascii_lowercase();
        return if custom.contains('.') {
            custom
        } else {
            on_base(&dns_label(&custom), base_domain)
        };
    }
    on_base(&dns_label(&fill(pattern, project, stage)), base_domain)
}

/// The domain of an extra instance of `tag`: the pattern's label followed by `-{tag}`, as one
/// label on the base domain (`stage-dev-shop-feature-login.example.com`).
pub fn tag_domain(
    pattern: &str,
    base_domain: &str,
    project: &str,
    stage: &str,
    tag: &str,
) -> String {
    let label = format!("{}-{tag}", fill(pattern, project, stage));
    on_base(&dns_label(&label), base_domain)
}

fn fill(pattern: &str, project: &str, stage: &str) -> String {
    pattern
        .replace("{stage}", stage)
        .replace("{project}", project)
}

fn on_base(label: &str, base_domain: &str) -> String {
    let base = base_domain.trim().trim_matches('.').to_ascii_lowercase();
    if base.is_empty() {
        label.to_string()
    } else {
        format!("{label}.{base}")
    }
}

fn hex_prefix(bytes: &[u8], len: usize) -> String {
    let mut hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    hex.truncate(len);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATTERN: &str = "stage-{stage}-{project}";

    #[test]
    fn the_default_pattern_names_the_stage_on_the_base_domain() {
        assert_eq!(
            stage_domain(PATTERN, "example.com", "shop", "dev", None),
            "stage-dev-shop.example.com"
        );
        assert_eq!(
            stage_domain(PATTERN, "Example.COM.", "Shop_App", "Rel", None),
            "stage-rel-shop-app.example.com"
        );
    }

    #[test]
    fn a_custom_subdomain_is_a_label_or_a_whole_domain() {
        assert_eq!(
            stage_domain(PATTERN, "example.com", "shop", "prod", Some("shop")),
            "shop.example.com"
        );
        assert_eq!(
            stage_domain(
                PATTERN,
                "example.com",
                "shop",
                "prod",
                Some("Shop.Example.org")
            ),
            "shop.example.org"
        );
        assert_eq!(
            stage_domain(PATTERN, "example.com", "shop", "prod", Some("  ")),
            "stage-prod-shop.example.com"
        );
    }

    #[test]
    fn tag_instances_get_a_dns_safe_label_of_their_own() {
        assert_eq!(
            tag_domain(PATTERN, "example.com", "shop", "dev", "Feature/Login_v2.1"),
            "stage-dev-shop-feature-login-v2-1.example.com"
        );
    }

    #[test]
    fn long_labels_are_cut_to_63_characters_and_kept_apart_by_a_hash() {
        let tag_a = format!("feature-{}-a", "x".repeat(80));
        let tag_b = format!("feature-{}-b", "x".repeat(80));
        let a = tag_domain(PATTERN, "example.com", "shop", "dev", &tag_a);
        let b = tag_domain(PATTERN, "example.com", "shop", "dev", &tag_b);
        let label_a = a.strip_suffix(".example.com").unwrap();
        let label_b = b.strip_suffix(".example.com").unwrap();
        assert_eq!(label_a.len(), MAX_LABEL, "{label_a}");
        assert_eq!(label_b.len(), MAX_LABEL, "{label_b}");
        assert_ne!(label_a, label_b);
        assert!(
            label_a.starts_with("stage-dev-shop-feature-xxx"),
            "{label_a}"
        );
        // The same input always gives the same name.
        assert_eq!(a, tag_domain(PATTERN, "example.com", "shop", "dev", &tag_a));
    }

    #[test]
    fn a_cut_never_leaves_a_dash_before_the_hash_doubled() {
        // Position 56 falls on a dash: the label must not contain "--".
        let text = format!("{}-{}", "a".repeat(55), "b".repeat(20));
        let label = dns_label(&text);
        assert!(label.len() <= MAX_LABEL, "{label}");
        assert!(!label.contains("--"), "{label}");
        assert!(
            label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn labels_of_63_characters_or_fewer_are_not_touched() {
        let exact = "a".repeat(63);
        assert_eq!(dns_label(&exact), exact);
    }
}
