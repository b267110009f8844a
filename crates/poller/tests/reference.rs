//! How image references are read, normalized and printed; each case is what `docker pull`
//! would do with the same string.

use poller::{ImageName, ImageReference, ReferenceError};

const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What a valid reference must parse to.
struct Expect<'a> {
    registry: &'a str,
    repository: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
    manifest_path: &'a str,
    canonical: &'a str,
}

fn check(input: &str, expected: Expect<'_>) {
    let reference = ImageReference::parse(input)
        .unwrap_or_else(|error| panic!("{input:?} should parse, got: {error}"));
    assert_eq!(
        reference.registry(),
        expected.registry,
        "registry of {input:?}"
    );
    assert_eq!(
        reference.repository(),
        expected.repository,
        "repository of {input:?}"
    );
    assert_eq!(reference.tag(), expected.tag, "tag of {input:?}");
    assert_eq!(reference.digest(), expected.digest, "digest of {input:?}");
    assert_eq!(
        reference.manifest_path(),
        expected.manifest_path,
        "manifest path of {input:?}"
    );
    assert_eq!(
        reference.to_string(),
        expected.canonical,
        "canonical form of {input:?}"
    );
    // Canonical forms must read back as the same reference.
    assert_eq!(
        ImageReference::parse(expected.canonical),
        Ok(reference),
        "reparse of {input:?}"
    );
}

fn check_canonical(input: &str, canonical: &str) {
    match input.parse::<ImageReference>() {
        Ok(reference) => assert_eq!(
            reference.to_string(),
            canonical,
            "canonical form of {input:?}"
        ),
        Err(error) => panic!("{input:?} should parse, got: {error}"),
    }
}

fn check_error(input: &str, message_part: &str) {
    match ImageReference::parse(input) {
        Ok(reference) => panic!("{input:?} should be rejected, parsed as {reference}"),
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains(message_part),
                "error for {input:?} was {message:?}"
            );
            assert!(
                message.contains(&format!("{input:?}")),
                "error for {input:?} does not quote it: {message:?}"
            );
        }
    }
}

#[test]
fn registry_with_port_and_tag() {
    check(
        "localhost:5000/team/api:1.2.3",
        Expect {
            registry: "localhost:5000",
            repository: "team/api",
            tag: Some("1.2.3"),
            digest: None,
            manifest_path: "/v2/team/api/manifests/1.2.3",
            canonical: "localhost:5000/team/api:1.2.3",
        },
    );
}

#[test]
fn registry_port_is_not_a_tag_and_the_tag_defaults_to_latest() {
    check(
        "localhost:5000/team/api",
        Expect {
            registry: "localhost:5000",
            repository: "team/api",
            tag: Some("latest"),
            digest: None,
            manifest_path: "/v2/team/api/manifests/latest",
            canonical: "localhost:5000/team/api:latest",
        },
    );
}

#[test]
fn ip_address_registry_with_single_component_repository() {
    check(
        "127.0.0.1:5000/myimage:1.2.3",
        Expect {
            registry: "127.0.0.1:5000",
            repository: "myimage",
            tag: Some("1.2.3"),
            digest: None,
            manifest_path: "/v2/myimage/manifests/1.2.3",
            canonical: "127.0.0.1:5000/myimage:1.2.3",
        },
    );
}

#[test]
fn bare_localhost_is_a_registry() {
    check(
        "localhost/testimage:mytag",
        Expect {
            registry: "localhost",
            repository: "testimage",
            tag: Some("mytag"),
            digest: None,
            manifest_path: "/v2/testimage/manifests/mytag",
            canonical: "localhost/testimage:mytag",
        },
    );
}

#[test]
fn first_component_without_dot_or_port_is_a_docker_hub_namespace() {
    check(
        "acme/testimage:mytag",
        Expect {
            registry: "docker.io",
            repository: "acme/testimage",
            tag: Some("mytag"),
            digest: None,
            manifest_path: "/v2/acme/testimage/manifests/mytag",
            canonical: "docker.io/acme/testimage:mytag",
        },
    );
}

#[test]
fn docker_hub_short_forms_are_normalized() {
    for (input, canonical) in [
        ("alpine", "docker.io/library/alpine:latest"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("acme/web:2", "docker.io/acme/web:2"),
        ("docker.io/alpine:3.20", "docker.io/library/alpine:3.20"),
        (
            "index.docker.io/library/alpine:3.20",
            "docker.io/library/alpine:3.20",
        ),
        ("index.docker.io/alpine", "docker.io/library/alpine:latest"),
    ] {
        check_canonical(input, canonical);
    }
}

#[test]
fn registry_1_docker_io_is_not_an_alias_of_docker_hub() {
    check_canonical(
        "registry-1.docker.io/alpine:3",
        "registry-1.docker.io/alpine:3",
    );
}

#[test]
fn docker_hub_api_is_served_from_registry_1() {
    let name = ImageName::parse("alpine").unwrap();
    assert_eq!(name.registry(), "docker.io");
    assert_eq!(name.api_host(), "registry-1.docker.io");
    assert_eq!(
        ImageName::parse("ghcr.io/team/api").unwrap().api_host(),
        "ghcr.io"
    );
    assert_eq!(
        ImageName::parse("localhost:5000/team/api")
            .unwrap()
            .api_host(),
        "localhost:5000"
    );
}

#[test]
fn digest_only_reference_has_no_tag() {
    let digest = format!("sha256:{HEX}");
    check(
        &format!("ubuntu@{digest}"),
        Expect {
            registry: "docker.io",
            repository: "library/ubuntu",
            tag: None,
            digest: Some(&digest),
            manifest_path: &format!("/v2/library/ubuntu/manifests/{digest}"),
            canonical: &format!("docker.io/library/ubuntu@{digest}"),
        },
    );
}

#[test]
fn tag_and_digest_are_both_kept_and_the_digest_addresses_the_manifest() {
    let digest = format!("sha256:{HEX}");
    check(
        &format!("cgr.example.com/team/base:latest@{digest}"),
        Expect {
            registry: "cgr.example.com",
            repository: "team/base",
            tag: Some("latest"),
            digest: Some(&digest),
            manifest_path: &format!("/v2/team/base/manifests/{digest}"),
            canonical: &format!("cgr.example.com/team/base:latest@{digest}"),
        },
    );
}

#[test]
fn registry_port_tag_and_digest_together() {
    let digest = format!("sha256:{HEX}");
    check(
        &format!("localhost:5000/img:1.0@{digest}"),
        Expect {
            registry: "localhost:5000",
            repository: "img",
            tag: Some("1.0"),
            digest: Some(&digest),
            manifest_path: &format!("/v2/img/manifests/{digest}"),
            canonical: &format!("localhost:5000/img:1.0@{digest}"),
        },
    );
}

#[test]
fn sha256_digest_must_be_64_lowercase_hex() {
    check_error(&format!("ubuntu@sha256:{}", &HEX[..63]), "64 lowercase hex");
    check_error(
        &format!("ubuntu@sha256:{}", HEX.to_uppercase()),
        "64 lowercase hex",
    );
    check_error(&format!("ubuntu@sha256:{HEX}0"), "64 lowercase hex");
    check_error("ubuntu@sha256:", "algorithm:hex");
    check_error("ubuntu@", "algorithm:hex");
    check_error(&format!("ubuntu@md5:{HEX}"), "not supported");
}

#[test]
fn uppercase_repository_is_rejected_with_the_input_named() {
    check_error(
        "registry.example.org/foo/screenApp:1.0",
        "must be lowercase",
    );
    assert_eq!(
        ImageReference::parse("Foo/Bar").unwrap_err().to_string(),
        r#"invalid image reference "Foo/Bar": repository name must be lowercase"#
    );
}

#[test]
fn mixed_case_tag_is_valid_and_kept_as_written() {
    check(
        "registry.example.org/foo/screenapp:V1.0-RC",
        Expect {
            registry: "registry.example.org",
            repository: "foo/screenapp",
            tag: Some("V1.0-RC"),
            digest: None,
            manifest_path: "/v2/foo/screenapp/manifests/V1.0-RC",
            canonical: "registry.example.org/foo/screenapp:V1.0-RC",
        },
    );
}

#[test]
fn malformed_references_are_rejected() {
    assert_eq!(ImageReference::parse(""), Err(ReferenceError::Empty));
    for (input, message_part) in [
        (":tag", "no repository name"),
        ("a//b", "path component \"\""),
        ("-a/b", "path component \"-a\""),
        ("alpine:", "tag \"\""),
        ("alpine:.hidden", "tag \".hidden\""),
        ("alp ine", "path component \"alp ine\""),
        ("alpine: 1", "tag \" 1\""),
        (" alpine", "path component \" alpine\""),
        ("a..b", "path component \"a..b\""),
        ("team/api/", "path component \"\""),
        ("localhost:/api", "registry \"localhost:\""),
        ("host-.example.com/api", "registry \"host-.example.com\""),
    ] {
        check_error(input, message_part);
    }
}

#[test]
fn tag_may_have_128_characters_but_not_129() {
    let longest = format!("alpine:{}", "t".repeat(128));
    assert_eq!(
        ImageReference::parse(&longest).unwrap().tag(),
        Some("t".repeat(128).as_str())
    );
    check_error(&format!("alpine:{}", "t".repeat(129)), "1 to 128");
}

#[test]
fn name_may_have_255_characters_but_not_256() {
    // "localhost/" is 10 characters.
    let longest = format!("localhost/{}", "a".repeat(245));
    assert_eq!(
        ImageReference::parse(&longest).unwrap().repository().len(),
        245
    );
    check_error(&format!("localhost/{}", "a".repeat(246)), "at most 255");
}

#[test]
fn bare_image_id_is_not_a_name() {
    check_error(HEX, "image id");
}

#[test]
fn with_tag_builds_a_reference_from_a_name() {
    let name = ImageName::parse("localhost:5000/team/api").unwrap();
    let reference = ImageReference::with_tag(&name, "2.0.1").unwrap();
    assert_eq!(reference.name(), &name);
    assert_eq!(reference.to_string(), "localhost:5000/team/api:2.0.1");
    assert_eq!(reference.manifest_path(), "/v2/team/api/manifests/2.0.1");
    assert_eq!(
        ImageReference::with_tag(&name, "-bad"),
        Err(ReferenceError::InvalidTag {
            input: "localhost:5000/team/api:-bad".into(),
            tag: "-bad".into(),
        })
    );
}

#[test]
fn image_name_is_normalized_like_a_reference() {
    let name: ImageName = "alpine".parse().unwrap();
    assert_eq!(name.repository(), "library/alpine");
    assert_eq!(name.to_string(), "docker.io/library/alpine");
    let name = ImageName::parse("localhost:5000/team/api").unwrap();
    assert_eq!(
        (name.registry(), name.repository()),
        ("localhost:5000", "team/api")
    );
    assert_eq!(name.to_string(), "localhost:5000/team/api");
}

#[test]
fn image_name_refuses_a_tag_or_digest() {
    let error = ImageName::parse("alpine:3.20").unwrap_err();
    assert_eq!(
        error,
        ReferenceError::TagNotAllowed {
            input: "alpine:3.20".into(),
            tag: "3.20".into(),
        }
    );
    assert!(error.to_string().contains("must not include a tag"));
    let with_digest = format!("alpine@sha256:{HEX}");
    assert!(
        ImageName::parse(&with_digest)
            .unwrap_err()
            .to_string()
            .contains("must not include a digest")
    );
    assert!(matches!(
        ImageName::parse("Alpine"),
        Err(ReferenceError::Uppercase { .. })
    ));
}

#[test]
fn image_name_on_a_registry_takes_a_bare_repository_or_its_own_full_name() {
    let bare = ImageName::parse_on("localhost:5000", "team/api").unwrap();
    assert_eq!(bare.to_string(), "localhost:5000/team/api");
    // A one-part name is a repository of that registry, not a Docker Hub official image.
    let single = ImageName::parse_on("registry.example.test", "api").unwrap();
    assert_eq!(single.to_string(), "registry.example.test/api");
    let full = ImageName::parse_on("localhost:5000", "localhost:5000/team/api").unwrap();
    assert_eq!(full, bare);
    let hub = ImageName::parse_on("docker.io", "index.docker.io/library/alpine").unwrap();
    assert_eq!(hub.to_string(), "docker.io/library/alpine");
}

#[test]
fn image_name_on_a_registry_refuses_another_host_and_quotes_the_input() {
    let error = ImageName::parse_on("localhost:5000", "ghcr.io/acme/api").unwrap_err();
    assert_eq!(
        error,
        ReferenceError::OtherRegistry {
            input: "ghcr.io/acme/api".into(),
            registry: "ghcr.io".into(),
            expected: "localhost:5000".into(),
        }
    );
    let invalid = ImageName::parse_on("localhost:5000", "Team/Api").unwrap_err();
    assert!(
        invalid.to_string().contains("\"Team/Api\"") && !invalid.to_string().contains("5000"),
        "the error quotes what was written: {invalid}"
    );
}
