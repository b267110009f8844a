//! The registry client against the testbed's real registries (`cargo xtask testbed`): the
//! open one holding `dw-testbed/app` and the one that only lets its user in (Basic auth)
//! holding `private/app`. A missing testbed fails these tests; nothing is skipped.

mod testbed;

use testbed::{registry, testbed_var};

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use poller::registry::MANIFEST_ACCEPT;
use poller::{ClientConfig, Credentials, RegistryClient, RegistryError};

/// The repository the testbed pushes its images to.
const IMAGE: &str = "dw-testbed/app";
/// The repository on the auth registry.
const PRIVATE_IMAGE: &str = "private/app";

fn auth_registry() -> String {
    testbed_var("DW_TEST_AUTH_REGISTRY")
}

fn auth_credentials() -> Credentials {
    Credentials::new(
        testbed_var("DW_TEST_AUTH_USER"),
        testbed_var("DW_TEST_AUTH_PASSWORD"),
    )
}

fn client(host: &str, credentials: Option<Credentials>) -> RegistryClient {
    RegistryClient::for_host(host, credentials, ClientConfig::default()).unwrap()
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `docker {}`: {err}", args.join(" ")));
    assert!(
        out.status.success(),
        "`docker {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The first `sha256:` digest in `text`.
fn find_digest(text: &str) -> Option<String> {
    let start = text.find("sha256:")?;
    let digest: String = text[start..].chars().take(7 + 64).collect();
    (digest.len() == 71).then_some(digest)
}

#[test]
fn tags_of_the_test_image_are_listed() {
    let client = client(&registry(), None);
    let tags = client.tags(IMAGE).unwrap();
    for tag in ["v1", "v2", "unhealthy"] {
        assert!(
            tags.contains(&tag.to_owned()),
            "{tag} missing from {tags:?}"
        );
    }
    let mut sorted = tags.clone();
    sorted.sort();
    assert_eq!(tags, sorted, "tags come back sorted");
}

#[test]
fn paginating_one_tag_per_page_gives_the_same_list_one_request_per_page() {
    let whole = client(&registry(), None).tags(IMAGE).unwrap();
    let paged_client = RegistryClient::for_host(
        &registry(),
        None,
        ClientConfig {
            page_size: 1,
            ..ClientConfig::default()
        },
    )
    .unwrap();
    let paged = paged_client.tags(IMAGE).unwrap();
    assert_eq!(paged, whole);
    // Older registries (Debian's docker-registry 2.8 among them) ignore `n` on tag lists and
    // send everything at once; ask the registry directly which kind this is. Pagination
    // itself is also covered by the scripted registry.
    let link = Command::new("curl")
        .args(["-sSfI"])
        .arg(format!("http://{}/v2/{IMAGE}/tags/list?n=1", registry()))
        .output()
        .expect("run curl");
    let paginates = String::from_utf8_lossy(&link.stdout)
        .lines()
        .any(|line| line.to_ascii_lowercase().starts_with("link:"));
    let requests = paged_client.requests_sent();
    if paginates {
        // The last page is the one without a next link, which may come as an empty page.
        let pages = whole.len() as u64;
        assert!(
            requests == pages || requests == pages + 1,
            "{requests} requests for {pages} tags"
        );
    } else {
        assert_eq!(requests, 1, "one page when the registry ignores n");
    }
}

#[test]
fn the_digest_is_the_one_the_registry_gives_curl() {
    let host = registry();
    let digest = client(&host, None).digest(IMAGE, "v1").unwrap();
    let out = Command::new("curl")
        .args(["-sSfI", "-H"])
        .arg(format!("Accept: {MANIFEST_ACCEPT}"))
        .arg(format!("http://{host}/v2/{IMAGE}/manifests/v1"))
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl failed: {out:?}");
    let headers = String::from_utf8_lossy(&out.stdout);
    let from_curl = headers
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("docker-content-digest")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no Docker-Content-Digest in {headers}"));
    assert_eq!(digest, from_curl);
}

#[test]
fn the_digest_is_the_one_docker_push_reported_and_inspect_shows() {
    let host = registry();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let repository = format!("dw-registry-test/app-{}-{nanos}", std::process::id());
    let remote = format!("{host}/{repository}:v1");
    docker(&["tag", &format!("{IMAGE}:v1"), &remote]);
    let pushed = Command::new("docker").args(["push", &remote]).output();
    let repo_digests = docker(&["inspect", "--format", "{{json .RepoDigests}}", &remote]);
    // Untagged whatever happened, so registry-named tags do not pile up.
    let _ = Command::new("docker").args(["rmi", &remote]).output();
    let pushed = pushed.expect("run docker push");
    assert!(pushed.status.success(), "docker push failed: {pushed:?}");
    let push_output = String::from_utf8_lossy(&pushed.stdout);
    let push_digest = find_digest(&push_output)
        .unwrap_or_else(|| panic!("no digest in push output {push_output}"));
    let inspected = repo_digests
        .split('"')
        .find_map(|entry| entry.strip_prefix(&format!("{host}/{repository}@")))
        .unwrap_or_else(|| panic!("{repository} not in RepoDigests {repo_digests}"));

    let digest = client(&host, None).digest(&repository, "v1").unwrap();
    assert_eq!(digest, push_digest);
    assert_eq!(digest, inspected);
}

#[test]
fn an_unchanged_digest_costs_exactly_one_request() {
    let client = client(&registry(), None);
    let first = client.digest(IMAGE, "v1").unwrap();
    let before = client.requests_sent();
    let second = client.digest(IMAGE, "v1").unwrap();
    assert_eq!(first, second);
    assert_eq!(client.requests_sent() - before, 1);
}

#[test]
fn a_digest_reference_resolves_to_itself() {
    let client = client(&registry(), None);
    let digest = client.digest(IMAGE, "v1").unwrap();
    assert_eq!(client.digest(IMAGE, &digest).unwrap(), digest);
}

#[test]
fn an_unknown_tag_is_manifest_unknown() {
    let err = client(&registry(), None)
        .digest(IMAGE, "no-such-tag")
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::ManifestUnknown { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("dw-testbed/app:no-such-tag"),
        "{err}"
    );
}

#[test]
fn an_unknown_repository_has_no_tags() {
    let tags = client(&registry(), None)
        .tags("dw-testbed/never-pushed-here")
        .unwrap();
    assert!(tags.is_empty(), "{tags:?}");
}

#[test]
fn the_password_registry_refuses_anonymous_clients_by_name() {
    let host = auth_registry();
    let client = client(&host, None);
    let err = client.tags(PRIVATE_IMAGE).unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert_eq!(err.registry(), Some(host.as_str()));
    let message = err.to_string();
    assert!(message.contains(&host), "{message}");
    assert!(message.contains(PRIVATE_IMAGE), "{message}");
    let check = client.check().unwrap_err();
    assert!(check.is_auth(), "{check}");
}

#[test]
fn the_password_registry_lets_its_user_in() {
    let client = client(&auth_registry(), Some(auth_credentials()));
    client.check().unwrap();
    let tags = client.tags(PRIVATE_IMAGE).unwrap();
    assert!(tags.contains(&"v1".to_owned()), "{tags:?}");
    // Credentials go along up front once the registry has asked for them.
    let digest = client.digest(PRIVATE_IMAGE, "v1").unwrap();
    assert!(digest.starts_with("sha256:"), "{digest}");
    let before = client.requests_sent();
    assert_eq!(client.digest(PRIVATE_IMAGE, "v1").unwrap(), digest);
    assert_eq!(client.requests_sent() - before, 1);
}

#[test]
fn a_wrong_password_is_invalid_credentials() {
    let host = auth_registry();
    let wrong = Credentials::new(testbed_var("DW_TEST_AUTH_USER"), "not-the-password");
    let err = client(&host, Some(wrong)).tags(PRIVATE_IMAGE).unwrap_err();
    let message = err.to_string();
    assert!(err.is_auth(), "{message}");
    assert!(
        message.contains("invalid registry credentials"),
        "{message}"
    );
    assert!(message.contains(&host), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");
}

#[test]
fn check_works_on_the_open_registry() {
    let client = client(&registry(), None);
    client.check().unwrap();
    assert_eq!(client.requests_sent(), 1);
    // The testbed registry sends no rate-limit headers: unknown, not zero.
    assert_eq!(client.rate_limit(), poller::RateLimitState::default());
}
