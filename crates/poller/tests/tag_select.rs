//! Choosing the tag to deploy: version order, families, pre-releases and what runs now.

use std::cmp::Ordering;

use poller::{TagRule, TagSelector, compare_versions};
use regex::Regex;

fn tags(list: &[&str]) -> Vec<String> {
    list.iter().map(|tag| tag.to_string()).collect()
}

fn glob(pattern: &str) -> TagSelector {
    TagSelector::new(TagRule::new(Some(pattern), None, None, false).unwrap())
}

fn regex(pattern: &str) -> TagSelector {
    TagSelector::new(TagRule::new(None, Some(pattern), None, false).unwrap())
}

fn semver(constraint: &str, include_prerelease: bool) -> TagSelector {
    TagSelector::new(TagRule::new(None, None, Some(constraint), include_prerelease).unwrap())
}

fn newest(selector: &TagSelector, list: &[&str]) -> Option<String> {
    selector.newest(&tags(list))
}

// Version order.

#[test]
fn numbers_compare_as_numbers_not_text() {
    assert_eq!(
        compare_versions("v1.10.0", "v1.9.0"),
        Some(Ordering::Greater)
    );
    assert_eq!(compare_versions("1.10", "1.9"), Some(Ordering::Greater));
    assert_eq!(compare_versions("v0.9.0", "v1.10.0"), Some(Ordering::Less));
    assert_eq!(
        newest(&glob("*"), &["1.9", "1.10", "1.2"]).as_deref(),
        Some("1.10")
    );
    assert_eq!(
        glob("*").sorted(&tags(&["v0.9.0", "v1.10.0", "v1.9.0", "v1.2.0"])),
        tags(&["v1.10.0", "v1.9.0", "v1.2.0", "v0.9.0"])
    );
}

#[test]
fn partial_versions_and_v_prefixes_are_the_same_versions() {
    assert_eq!(compare_versions("1.2", "1.2.0"), Some(Ordering::Equal));
    assert_eq!(compare_versions("1", "1.0.0"), Some(Ordering::Equal));
    assert_eq!(compare_versions("v1.0.0", "1.0.0"), Some(Ordering::Equal));
    assert_eq!(compare_versions("V2", "v1.99"), Some(Ordering::Greater));
    assert_eq!(
        compare_versions("1.0.0+build.7", "1.0.0"),
        Some(Ordering::Equal)
    );
    // Partial versions satisfy version constraints too.
    let stable = semver(">=1.0", false);
    assert_eq!(
        newest(&stable, &["0.9", "1", "1.2"]).as_deref(),
        Some("1.2")
    );
}

#[test]
fn v_prefixed_and_bare_tags_order_together() {
    let list = tags(&["v1.9.0", "1.10.0", "v1.2.0", "1.3", "v2"]);
    assert_eq!(
        glob("*").sorted(&list),
        tags(&["v2", "1.10.0", "v1.9.0", "1.3", "v1.2.0"])
    );
    assert_eq!(
        semver(">=1, <2", false).newest(&list).as_deref(),
        Some("1.10.0")
    );
}

#[test]
fn words_and_hashes_are_not_versions() {
    for tag in ["latest", "3f9c2ab", "main-3f9c2ab", "dev-42", "stable"] {
        assert_eq!(compare_versions(tag, "1.0.0"), None, "{tag}");
        assert_eq!(compare_versions("1.0.0", tag), None, "{tag}");
    }
}

// Pre-releases.

#[test]
fn prereleases_are_left_out_unless_the_stage_asks() {
    let list = ["1.2.0", "1.3.0-rc.1", "v1.3.0-beta.2"];
    assert_eq!(
        newest(&semver(">=1.0.0", false), &list).as_deref(),
        Some("1.2.0")
    );
    assert_eq!(
        newest(&semver(">=1.0.0", true), &list).as_deref(),
        Some("1.3.0-rc.1")
    );
    assert_eq!(
        semver(">=1.0.0", true).sorted(&tags(&list)),
        tags(&["1.3.0-rc.1", "v1.3.0-beta.2", "1.2.0"])
    );
}

#[test]
fn a_release_is_above_its_prereleases() {
    assert_eq!(
        compare_versions("1.3.0-rc.1", "1.3.0"),
        Some(Ordering::Less)
    );
    assert_eq!(
        compare_versions("1.3.0-rc.2", "1.3.0-rc.10"),
        Some(Ordering::Less)
    );
    assert_eq!(
        compare_versions("1.3.0-rc.1", "1.2.9"),
        Some(Ordering::Greater)
    );
    let list = ["1.3.0-rc.1", "1.3.0", "1.3.0-rc.2"];
    assert_eq!(newest(&semver("*", true), &list).as_deref(), Some("1.3.0"));
    assert_eq!(newest(&glob("*"), &list).as_deref(), Some("1.3.0"));
}

#[test]
fn a_build_number_after_the_version_is_a_prerelease() {
    let list = ["v1.0.0", "v1.0.1-64.272fa09"];
    assert_eq!(
        newest(&semver(">=0", false), &list).as_deref(),
        Some("v1.0.0")
    );
    assert_eq!(
        newest(&semver(">=0", true), &list).as_deref(),
        Some("v1.0.1-64.272fa09")
    );
}

#[test]
fn a_release_candidate_is_below_the_release_it_announces() {
    let list = ["0.0.1", "0.0.2-rc.2", "0.0.2"];
    assert_eq!(newest(&semver("*", true), &list).as_deref(), Some("0.0.2"));
    assert_eq!(newest(&glob("*"), &list).as_deref(), Some("0.0.2"));
    assert_eq!(newest(&semver("*", false), &list).as_deref(), Some("0.0.2"));
}

#[test]
fn a_describe_style_prerelease_sits_below_its_release() {
    let ascending = tags(&["0.11.0-20.g070e4a9", "0.11.0", "0.12.0"]);
    let mut descending = ascending.clone();
    descending.reverse();
    assert_eq!(semver("*", true).sorted(&ascending), descending);
    assert_eq!(
        glob("*").sorted(&tags(&["0.12.0", "0.11.0-20.g070e4a9", "0.11.0"])),
        descending
    );
    assert_eq!(
        compare_versions("0.11.0-20.g070e4a9", "0.11.0"),
        Some(Ordering::Less)
    );
}

#[test]
fn a_glued_beta_of_the_running_release_is_not_an_upgrade() {
    let running = "3.8.0-alpine3.10";
    let list = ["3.8.0b1-alpine3.10", "3.7.4-alpine3.10"];
    assert_eq!(newest(&glob("*").newer_than(Some(running)), &list), None);
    assert_eq!(
        compare_versions("3.8.0b1-alpine3.10", running),
        Some(Ordering::Less)
    );
    // The next release of the family is.
    let later = ["3.8.0b1-alpine3.10", "3.8.1-alpine3.10"];
    assert_eq!(
        newest(&glob("*").newer_than(Some(running)), &later).as_deref(),
        Some("3.8.1-alpine3.10")
    );
}

// Families and what runs now.

#[test]
fn the_running_prefix_style_is_kept() {
    let list = ["v1.9.0", "v1.10.0", "v1.2.0", "1.11.0", "latest"];
    let selector = glob("*").newer_than(Some("v1.9.0"));
    assert_eq!(newest(&selector, &list).as_deref(), Some("v1.10.0"));
    // Allowed to change style, the bare 1.11.0 is newer still.
    let any = glob("*").newer_than(Some("v1.9.0")).across_families();
    assert_eq!(newest(&any, &list).as_deref(), Some("1.11.0"));
    // Nothing runs: plain version order over both styles; `latest` is last.
    assert_eq!(newest(&glob("*"), &list).as_deref(), Some("1.11.0"));
    assert_eq!(
        glob("*").sorted(&tags(&list)),
        tags(&["1.11.0", "v1.10.0", "v1.9.0", "v1.2.0", "latest"])
    );
}

#[test]
fn the_prefix_stays_with_a_variant_suffix() {
    let running = "v1.7.13-alpine";
    let list = [
        "1.7.14-alpine",
        "v1.7.14",
        "v1.7.14-alpine",
        "v1.7.12-alpine",
    ];
    assert_eq!(
        newest(&glob("*").newer_than(Some(running)), &list).as_deref(),
        Some("v1.7.14-alpine")
    );
}

#[test]
fn the_same_version_in_another_prefix_style_is_not_an_update() {
    // Running v1.0.0 and finding 1.0.0 must not look like an update forever.
    let selector = glob("*").newer_than(Some("v1.0.0")).across_families();
    assert_eq!(newest(&selector, &["1.0.0", "v1.0.0"]), None);
}

#[test]
fn a_variant_family_is_kept_exactly() {
    let list = [
        "1.13-alpine",
        "1.15-alpine",
        "1.15-alpine-perl",
        "1.15",
        "1.15-bookworm",
    ];
    let following = glob("*").newer_than(Some("1.12-alpine"));
    assert_eq!(newest(&following, &list).as_deref(), Some("1.15-alpine"));
    let alpine_only = regex("^[0-9.]+-alpine$");
    assert_eq!(newest(&alpine_only, &list).as_deref(), Some("1.15-alpine"));
    assert_eq!(
        alpine_only.sorted(&tags(&list)),
        tags(&["1.15-alpine", "1.13-alpine"])
    );
}

#[test]
fn a_variant_family_is_ordered_by_its_version() {
    let list = ["1.9-alpine", "1.25-alpine", "1.10-alpine", "1.25-bookworm"];
    let alpine = regex("^[0-9.]+-alpine$");
    assert_eq!(newest(&alpine, &list).as_deref(), Some("1.25-alpine"));
    assert_eq!(
        alpine.sorted(&tags(&list)),
        tags(&["1.25-alpine", "1.10-alpine", "1.9-alpine"])
    );
    let bookworm = glob("*-bookworm").newer_than(Some("1.10-bookworm"));
    assert_eq!(newest(&bookworm, &list).as_deref(), Some("1.25-bookworm"));
}

#[test]
fn a_prefixed_family_is_ordered_after_its_prefix() {
    // Shuffled alpine-v1.0.0 … alpine-v15.7.1, with strays the expression refuses.
    let mut list: Vec<String> = Vec::new();
    for major in (1..=15).rev().step_by(2).chain((2..=14).step_by(2)) {
        for minor in [7, 0, 3, 5, 6] {
            for patch in [1, 0] {
                list.push(format!("alpine-v{major}.{minor}.{patch}"));
            }
        }
    }
    list.extend(tags(&["alpine-latest", "alpine-v16.0.0-rc.1", "v99.0.0"]));
    let selector = regex(r"^alpine-v\d+\.\d+\.\d+$");
    let five: Vec<String> = selector.sorted(&list).into_iter().take(5).collect();
    assert_eq!(
        five,
        tags(&[
            "alpine-v15.7.1",
            "alpine-v15.7.0",
            "alpine-v15.6.1",
            "alpine-v15.6.0",
            "alpine-v15.5.1",
        ])
    );
    assert_eq!(selector.newest(&list).as_deref(), Some("alpine-v15.7.1"));
}

#[test]
fn an_anchored_expression_as_a_compose_label_delivers_it_works_as_written() {
    // `^10\.5\.\d+$$` in a compose file reaches the stage as `^10\.5\.\d+$`.
    let selector = regex(r"^10\.5\.\d+$");
    let list = ["10.5.1", "10.5.12", "10.6.0", "10.5.3", "10.5.3-rc.1"];
    assert_eq!(newest(&selector, &list).as_deref(), Some("10.5.12"));
}

#[test]
fn prefixed_tags_order_by_their_numbers_never_as_text() {
    let dev = glob("dev-*");
    let list = ["dev-41", "dev-9", "dev-10", "dev-42"];
    assert_eq!(newest(&dev, &list).as_deref(), Some("dev-42"));
    assert_eq!(
        dev.sorted(&tags(&list)),
        tags(&["dev-42", "dev-41", "dev-10", "dev-9"])
    );
    assert_eq!(
        newest(&dev, &["dev-9", "dev-10"]).as_deref(),
        Some("dev-10")
    );
    let following = dev.clone().newer_than(Some("dev-41"));
    assert_eq!(newest(&following, &list).as_deref(), Some("dev-42"));
    assert_eq!(newest(&dev.newer_than(Some("dev-42")), &list), None);
}

#[test]
fn prefixed_tags_without_numbers_are_not_chosen_by_ordering() {
    let feature = glob("feature-*");
    let list = ["feature-login", "feature-cart"];
    assert_eq!(newest(&feature, &list), None);
    assert_eq!(feature.sorted(&tags(&list)), tags(&list));
}

#[test]
fn hashes_latest_and_odd_dates_are_never_chosen_by_ordering() {
    let list = [
        "latest",
        "3f9c2ab",
        "1.2.0",
        "main-9e1d07c",
        "15-01-2024",
        "1.10.0",
    ];
    assert_eq!(newest(&glob("*"), &list).as_deref(), Some("1.10.0"));
    assert_eq!(
        glob("*").sorted(&tags(&list)),
        tags(&[
            "1.10.0",
            "1.2.0",
            "latest",
            "3f9c2ab",
            "main-9e1d07c",
            "15-01-2024"
        ])
    );
    // Only unorderable tags: nothing is chosen.
    let only = [
        "latest",
        "3f9c2ab",
        "a1b2c3d4e5f6",
        "main-9e1d07c",
        "01-02-2024",
    ];
    assert_eq!(newest(&glob("*"), &only), None);
    assert_eq!(glob("*").sorted(&tags(&only)), tags(&only));
}

#[test]
fn nothing_is_newer_than_the_newest() {
    let list = ["1.0.0", "1.1.0", "1.2.0"];
    let selector = semver(">=1", false).newer_than(Some("1.2.0"));
    assert_eq!(newest(&selector, &list), None);
    let behind = semver(">=1", false).newer_than(Some("1.1.0"));
    assert_eq!(newest(&behind, &list).as_deref(), Some("1.2.0"));
    // Running something newer than anything listed: no downgrade.
    let ahead = semver(">=1", false).newer_than(Some("2.0.0"));
    assert_eq!(newest(&ahead, &list), None);
    // `1.2` is `1.2.0`: not newer.
    let same = glob("*").newer_than(Some("1.2.0"));
    assert_eq!(newest(&same, &["1.2", "1.1"]), None);
}

#[test]
fn nothing_is_known_to_be_newer_than_an_unorderable_running_tag() {
    let list = ["1.0.0", "1.1.0"];
    assert_eq!(newest(&glob("*").newer_than(Some("latest")), &list), None);
    assert_eq!(newest(&glob("*").newer_than(Some("3f9c2ab")), &list), None);
    assert_eq!(
        newest(&glob("*").newer_than(None), &list).as_deref(),
        Some("1.1.0")
    );
}

#[test]
fn an_empty_list_chooses_nothing() {
    assert_eq!(newest(&glob("*"), &[]), None);
    assert_eq!(
        newest(&semver("*", true).newer_than(Some("1.0.0")), &[]),
        None
    );
    assert!(glob("*").sorted(&[]).is_empty());
}

#[test]
fn the_exclude_list_matches_whole_tags() {
    let list = ["1.4.0", "1.5.0", "1.5.0-debug", "1.6.0-rc.1"];
    let selector = glob("*").excluding(Regex::new(r"1\.5\..*").unwrap());
    assert_eq!(newest(&selector, &list).as_deref(), Some("1.6.0-rc.1"));
    let no_rc = glob("*").excluding(Regex::new(r".*-rc\.\d+").unwrap());
    assert_eq!(newest(&no_rc, &list).as_deref(), Some("1.5.0"));
    // `rc` alone only refuses the tag `rc`, as a tag_regex would.
    let word = glob("*").excluding(Regex::new("rc").unwrap());
    assert_eq!(newest(&word, &list).as_deref(), Some("1.6.0-rc.1"));
    assert!(!word.accepts("rc") && word.accepts("1.6.0-rc.1"));
}

#[test]
fn the_rule_decides_what_is_a_candidate() {
    let list = ["0.9.0", "1.0.0", "1.4.2", "2.0.0"];
    assert_eq!(
        newest(&semver("^1", false), &list).as_deref(),
        Some("1.4.2")
    );
    assert_eq!(
        semver("^1", false).sorted(&tags(&list)),
        tags(&["1.4.2", "1.0.0"])
    );
    assert_eq!(newest(&semver(">=3", false), &list), None);
}

#[test]
fn equal_versions_keep_the_first_listed_and_repeats_are_listed_once() {
    let list = tags(&["1.2", "1.2.0", "v1.2.0", "1.2"]);
    assert_eq!(glob("*").newest(&list).as_deref(), Some("1.2"));
    assert_eq!(glob("*").sorted(&list), tags(&["1.2", "1.2.0", "v1.2.0"]));
}
