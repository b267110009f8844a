//! The registry client and the poller against registries of the tests' own (Debian's
//! Distribution 2.8, see `own_registry`): one open, one behind Bearer token auth issued by a
//! token server the tests control. What reached the registry is counted in its access log, so
//! these tests prove what is sent, not what the client believes it sent: one token per scope
//! across calls, clear errors and bounded requests when auth fails, a token going stale between
//! two pages renewed once, and exactly one `HEAD` per poll of an unchanged image.
//! `docker-registry` must be installed (`cargo xtask testbed` does it); nothing is skipped.

mod own_registry;
mod store_fixture;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use own_registry::token_server::LEEWAY_SECS;
use own_registry::{
    Anonymous, Logged, ManifestKind, OwnRegistry, PagingProxy, TokenServer, sha256_digest,
};
use poller::{
    ClientConfig, Credentials, FoundTag, FoundWhy, PollTarget, Poller, PollerConfig,
    RegistryClient, RegistryError, StageOutcome,
};
use store::{NewRegistry, NewStage, PlainSecret, SecretInput, Store};
use store_fixture::{project, stage, stage_id, store_with};

const USER: &str = "dw-deployer";
const PASSWORD: &str = "correct-horse-battery-staple";
const REPOSITORY: &str = "acme/app";

fn client(registry: &str, credentials: Option<Credentials>) -> RegistryClient {
    RegistryClient::for_host(registry, credentials, ClientConfig::default()).unwrap()
}

fn right_credentials() -> Credentials {
    Credentials::new(USER, PASSWORD)
}

/// `method path status` of each logged request, for readable comparisons.
fn summary(requests: &[Logged]) -> Vec<String> {
    requests
        .iter()
        .map(|line| format!("{} {} {}", line.method, line.path(), line.status))
        .collect()
}

fn manifests_path(repository: &str, reference: &str) -> String {
    format!("/v2/{repository}/manifests/{reference}")
}

fn tags_path(repository: &str) -> String {
    format!("/v2/{repository}/tags/list")
}

#[test]
fn the_open_registry_gives_the_digest_of_the_bytes_put_one_head_each() {
    let registry = OwnRegistry::start();
    let v1 = registry.put_image(REPOSITORY, "v1", "one", ManifestKind::Docker);
    let v2 = registry.put_image(REPOSITORY, "v2", "two", ManifestKind::Oci);
    assert_ne!(v1.digest, v2.digest);
    let client = client(registry.host(), None);
    let mark = registry.log_mark();

    assert_eq!(client.tags(REPOSITORY).unwrap(), ["v1", "v2"]);
    let digest = client.digest(REPOSITORY, "v1").unwrap();
    assert_eq!(digest, sha256_digest(&v1.manifest), "Docker v2 manifest");
    assert_eq!(
        client.digest(REPOSITORY, "v2").unwrap(),
        sha256_digest(&v2.manifest),
        "OCI manifest"
    );
    assert_eq!(client.digest(REPOSITORY, "v1").unwrap(), digest);

    let seen = registry.requests_since(mark);
    assert_eq!(
        summary(&seen),
        [
            format!("GET {} 200", tags_path(REPOSITORY)),
            format!("HEAD {} 200", manifests_path(REPOSITORY, "v1")),
            format!("HEAD {} 200", manifests_path(REPOSITORY, "v2")),
            format!("HEAD {} 200", manifests_path(REPOSITORY, "v1")),
        ]
    );
    assert_eq!(client.requests_sent(), seen.len() as u64);
}

#[test]
fn the_right_password_gets_one_token_per_scope_used_for_every_call() {
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::Refused);
    let registry = OwnRegistry::start_with_tokens(&tokens);
    let v1 = registry.put_image(REPOSITORY, "v1", "one", ManifestKind::Docker);
    let v2 = registry.put_image(REPOSITORY, "v2", "two", ManifestKind::Oci);
    let other = registry.put_image("acme/other", "v1", "other", ManifestKind::Docker);
    let client = client(registry.host(), Some(right_credentials()));
    let mark = registry.log_mark();

    assert_eq!(client.tags(REPOSITORY).unwrap(), ["v1", "v2"]);
    assert_eq!(
        client.digest(REPOSITORY, "v1").unwrap(),
        sha256_digest(&v1.manifest)
    );
    assert_eq!(
        client.digest(REPOSITORY, "v2").unwrap(),
        sha256_digest(&v2.manifest)
    );
    assert_eq!(
        client.digest(REPOSITORY, "v1").unwrap(),
        sha256_digest(&v1.manifest)
    );
    assert_eq!(tokens.tokens_issued(), 1, "one token for one scope");
    assert_eq!(
        tokens.scopes_asked(),
        [vec![format!("repository:{REPOSITORY}:pull")]]
    );
    let seen = registry.requests_since(mark);
    assert_eq!(
        summary(&seen),
        [
            // The first request learns that tokens are needed; every later one carries it.
            format!("GET {} 401", tags_path(REPOSITORY)),
            format!("GET {} 200", tags_path(REPOSITORY)),
            format!("HEAD {} 200", manifests_path(REPOSITORY, "v1")),
            format!("HEAD {} 200", manifests_path(REPOSITORY, "v2")),
            format!("HEAD {} 200", manifests_path(REPOSITORY, "v1")),
        ]
    );

    // Another repository is another scope: a token of its own, fetched before the request
    // since the registry's challenge is known by now.
    let mark = registry.log_mark();
    assert_eq!(
        client.digest("acme/other", "v1").unwrap(),
        sha256_digest(&other.manifest)
    );
    assert_eq!(tokens.tokens_issued(), 2);
    assert_eq!(
        tokens.scopes_asked()[1],
        [String::from("repository:acme/other:pull")]
    );
    assert_eq!(
        summary(&registry.requests_since(mark)),
        [format!("HEAD {} 200", manifests_path("acme/other", "v1"))]
    );
    assert_eq!(
        client.requests_sent(),
        (seen.len() + 1 + tokens.requests()) as u64,
        "the client's count is the registry's plus the token server's"
    );
}

#[test]
fn a_short_lived_token_is_used_not_fetched_again_at_once() {
    // Below the client's 10 s refresh margin: the token it just fetched must still serve the
    // request that asked for it, and the next one a moment later.
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::Refused);
    tokens.answer_expires_in(8);
    let registry = OwnRegistry::start_with_tokens(&tokens);
    let v1 = registry.put_image(REPOSITORY, "v1", "one", ManifestKind::Docker);
    let client = client(registry.host(), Some(right_credentials()));
    let mark = registry.log_mark();

    assert_eq!(client.tags(REPOSITORY).unwrap(), ["v1"]);
    assert_eq!(
        client.digest(REPOSITORY, "v1").unwrap(),
        sha256_digest(&v1.manifest)
    );
    assert_eq!(tokens.tokens_issued(), 1);
    assert_eq!(
        summary(&registry.requests_since(mark)),
        [
            format!("GET {} 401", tags_path(REPOSITORY)),
            format!("GET {} 200", tags_path(REPOSITORY)),
            format!("HEAD {} 200", manifests_path(REPOSITORY, "v1")),
        ]
    );
}

#[test]
fn no_credentials_for_a_private_token_server_is_an_auth_error_after_one_token_request() {
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::Refused);
    let registry = OwnRegistry::start_with_tokens(&tokens);
    registry.put_image(REPOSITORY, "v1", "one", ManifestKind::Docker);
    let client = client(registry.host(), None);
    let mark = registry.log_mark();

    let err = client.tags(REPOSITORY).unwrap_err();
    assert!(matches!(err, RegistryError::Auth { .. }), "{err:?}");
    assert!(err.is_auth());
    assert_eq!(err.registry(), Some(registry.host()));
    let message = err.to_string();
    assert!(message.contains("refused anonymous access"), "{message}");
    assert!(message.contains(&tokens.realm()), "{message}");
    assert!(message.contains(REPOSITORY), "{message}");
    assert_eq!(tokens.requests(), 1);
    assert_eq!(tokens.tokens_issued(), 0);

    // Trying again costs the same again, no more: nothing loops.
    let err = client.digest(REPOSITORY, "v1").unwrap_err();
    assert!(matches!(err, RegistryError::Auth { .. }), "{err:?}");
    assert_eq!(tokens.requests(), 2);
    assert_eq!(
        summary(&registry.requests_since(mark)),
        [
            format!("GET {} 401", tags_path(REPOSITORY)),
            format!("HEAD {} 401", manifests_path(REPOSITORY, "v1")),
        ]
    );
}

#[test]
fn a_wrong_password_is_refused_by_the_token_server_without_showing_it() {
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::Refused);
    let registry = OwnRegistry::start_with_tokens(&tokens);
    registry.put_image(REPOSITORY, "v1", "one", ManifestKind::Docker);
    let client = client(
        registry.host(),
        Some(Credentials::new(USER, "wrong-horse-battery-staple")),
    );
    let mark = registry.log_mark();

    let err = client.digest(REPOSITORY, "v1").unwrap_err();
    assert!(matches!(err, RegistryError::Auth { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("refused the credentials"), "{message}");
    assert!(message.contains("digest of acme/app:v1"), "{message}");
    assert!(!message.contains("wrong-horse"), "{message}");
    assert_eq!(tokens.requests(), 1);
    assert_eq!(tokens.tokens_issued(), 0);
    assert_eq!(
        summary(&registry.requests_since(mark)),
        [format!("HEAD {} 401", manifests_path(REPOSITORY, "v1"))]
    );
}

#[test]
fn a_token_that_grants_nothing_is_refused_by_the_registry_once_not_in_a_loop() {
    // Public registries answer anonymous token requests for private repositories with a
    // token that grants nothing; the registry then refuses that token.
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::NothingGranted);
    let registry = OwnRegistry::start_with_tokens(&tokens);
    registry.put_image(REPOSITORY, "v1", "one", ManifestKind::Docker);
    let client = client(registry.host(), None);
    let mark = registry.log_mark();

    let err = client.tags(REPOSITORY).unwrap_err();
    assert!(matches!(err, RegistryError::Auth { .. }), "{err:?}");
    assert!(
        err.to_string().contains("refused a freshly issued token"),
        "{err}"
    );
    assert_eq!(tokens.requests(), 1);
    assert_eq!(tokens.tokens_issued(), 1);
    assert_eq!(
        summary(&registry.requests_since(mark)),
        [
            format!("GET {} 401", tags_path(REPOSITORY)),
            format!("GET {} 401", tags_path(REPOSITORY)),
        ]
    );
    let log = registry.app_log();
    assert!(
        log.contains("error authorizing context: insufficient scope"),
        "the registry refused the token for its scope:\n{log}"
    );
}

/// Puts `count` tags, `t01`…, all of one image.
fn put_tags(registry: &OwnRegistry, count: usize) -> Vec<String> {
    let tags: Vec<String> = (1..=count).map(|i| format!("t{i:02}")).collect();
    for tag in &tags {
        registry.put_image(REPOSITORY, tag, "paged", ManifestKind::Docker);
    }
    tags
}

fn one_tag_per_page() -> ClientConfig {
    ClientConfig {
        page_size: 1,
        ..ClientConfig::default()
    }
}

#[test]
fn pages_of_one_tag_give_the_whole_list_with_one_registry_request_each() {
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::Refused);
    for token_auth in [false, true] {
        let registry = if token_auth {
            OwnRegistry::start_with_tokens(&tokens)
        } else {
            OwnRegistry::start()
        };
        let tags = put_tags(&registry, 5);
        let proxy = PagingProxy::start(registry.host(), false);
        let credentials = token_auth.then(right_credentials);
        let client =
            RegistryClient::for_host(proxy.host(), credentials, one_tag_per_page()).unwrap();
        let mark = registry.log_mark();
        let issued = tokens.tokens_issued();

        assert_eq!(client.tags(REPOSITORY).unwrap(), tags);
        assert_eq!(proxy.pages_served(), tags.len());
        let statuses: Vec<u16> = registry
            .requests_since(mark)
            .iter()
            .filter(|line| line.is("GET", &tags_path(REPOSITORY)))
            .map(|line| line.status)
            .collect();
        let mut expected = vec![200; tags.len()];
        if token_auth {
            expected.insert(0, 401);
            assert_eq!(
                tokens.tokens_issued() - issued,
                1,
                "one token serves all the pages"
            );
        }
        assert_eq!(statuses, expected, "token auth: {token_auth}");
    }
}

#[test]
fn a_token_going_stale_between_two_pages_is_renewed_once_and_the_list_is_whole() {
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::Refused);
    let registry = OwnRegistry::start_with_tokens(&tokens);
    let tags = put_tags(&registry, 6);
    // The proxy holds the second page until the registry no longer takes the token.
    let proxy = PagingProxy::start(registry.host(), true);
    // The token says it lasts 300 s, but its real `exp` lets the registry take it for two or
    // three more seconds only, counting Distribution's leeway.
    tokens.answer_expires_in(300);
    tokens.real_lifetime_of_next_token(-(LEEWAY_SECS - 3));
    let client =
        RegistryClient::for_host(proxy.host(), Some(right_credentials()), one_tag_per_page())
            .unwrap();
    let mark = registry.log_mark();
    let started = Instant::now();

    let listed = client.tags(REPOSITORY).unwrap();

    assert_eq!(listed, tags);
    assert_eq!(
        proxy.held(),
        1,
        "the second page waited for the token to go stale"
    );
    assert_eq!(tokens.tokens_issued(), 2, "renewed once, not in a loop");
    let statuses: Vec<u16> = registry
        .requests_since(mark)
        .iter()
        .filter(|line| line.is("GET", &tags_path(REPOSITORY)))
        .map(|line| line.status)
        .collect();
    // Challenge, page 1, page 2 refused with the stale token, page 2 again, pages 3 to 6.
    assert_eq!(statuses, [401, 200, 401, 200, 200, 200, 200, 200]);
    let log = registry.app_log();
    assert!(
        log.contains("token not to be used after"),
        "the registry refused the token as expired:\n{log}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// Records what the poller finds, and hands out the credentials it was made with.
struct Recorder {
    credentials: Option<Credentials>,
    found: Mutex<Vec<FoundTag>>,
}

impl PollTarget for Recorder {
    fn credentials(&self, _registry: &store::Registry) -> Result<Option<Credentials>, String> {
        Ok(self.credentials.clone())
    }

    fn found(&self, found: &FoundTag) -> Result<String, String> {
        self.found.lock().unwrap().push(found.clone());
        Ok(format!("queued {}", found.reference))
    }
}

/// A store with one project on `registry`, its one stage following `latest` by digest.
fn store_following_latest(
    registry: &OwnRegistry,
    credentials: Option<&Credentials>,
) -> (tempfile::TempDir, Store, i64) {
    let own = NewRegistry {
        name: "own".into(),
        url: registry.base(),
        username: credentials.map(|c| c.username.clone()),
        password: credentials.map(|c| SecretInput {
            value: PlainSecret::new(c.password.clone()),
            env: None,
        }),
    };
    let follower = NewStage {
        watch_digest: true,
        ..stage("edge", "latest", true)
    };
    let image = format!("{}/{REPOSITORY}", registry.host());
    let (dir, store) = store_with(
        vec![own],
        vec![project("app", &image, Some("own"), vec![follower])],
    );
    let stage = stage_id(&store, "app", "edge");
    (dir, store, stage)
}

/// Baseline, two unchanged polls, `latest` moved, one more poll: what each poll costs at the
/// registry, and what it reports.
fn latest_costs_one_head_per_poll(registry: &OwnRegistry, credentials: Option<Credentials>) {
    let token_auth = credentials.is_some();
    let first = registry.put_image(REPOSITORY, "latest", "first", ManifestKind::Docker);
    let (_dir, store, stage) = store_following_latest(registry, credentials.as_ref());
    let target = Arc::new(Recorder {
        credentials,
        found: Mutex::new(Vec::new()),
    });
    let poller = Poller::new(store.clone(), target.clone(), PollerConfig::default());
    let one_head = vec![format!("HEAD {} 200", manifests_path(REPOSITORY, "latest"))];
    let poll = |expected: &StageOutcome| {
        let mark = registry.log_mark();
        let report = poller.poll_once();
        let outcome = &report.stage(stage).expect("the stage was polled").outcome;
        assert_eq!(outcome, expected);
        summary(&registry.requests_since(mark))
    };

    let mark = registry.log_mark();
    let report = poller.poll_once();
    assert_eq!(
        report.stage(stage).unwrap().outcome,
        StageOutcome::Baseline {
            tag: Some("latest".into()),
            digest: Some(sha256_digest(&first.manifest)),
        }
    );
    // The baseline is one HEAD too, after learning that a token is needed when it is.
    let head = format!("HEAD {}", manifests_path(REPOSITORY, "latest"));
    let baseline: &[String] = if token_auth {
        &[format!("{head} 401"), format!("{head} 200")]
    } else {
        &[format!("{head} 200")]
    };
    assert_eq!(summary(&registry.requests_since(mark)), baseline);

    for _ in 0..2 {
        assert_eq!(poll(&StageOutcome::NothingNew), one_head);
    }

    let second = registry.put_image(REPOSITORY, "latest", "second", ManifestKind::Oci);
    assert_ne!(second.digest, first.digest);
    let mark = registry.log_mark();
    let report = poller.poll_once();
    let found = target.found.lock().unwrap().clone();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].why, FoundWhy::MovedDigest);
    assert_eq!(found[0].digest, sha256_digest(&second.manifest));
    assert_eq!(
        found[0].reference.to_string(),
        format!("{}/{REPOSITORY}:latest", registry.host())
    );
    assert!(
        matches!(&report.stage(stage).unwrap().outcome, StageOutcome::Found { found: f, .. } if *f == found[0]),
        "{report:#?}"
    );
    assert_eq!(summary(&registry.requests_since(mark)), one_head);
    assert_eq!(poll(&StageOutcome::NothingNew), one_head);
    assert_eq!(target.found.lock().unwrap().len(), 1, "found once");
}

#[test]
fn an_unchanged_latest_costs_one_head_per_poll_on_the_open_registry() {
    let registry = OwnRegistry::start();
    latest_costs_one_head_per_poll(&registry, None);
}

#[test]
fn an_unchanged_latest_costs_one_head_per_poll_with_one_token_for_all_polls() {
    let tokens = TokenServer::start(USER, PASSWORD, Anonymous::Refused);
    let registry = OwnRegistry::start_with_tokens(&tokens);
    latest_costs_one_head_per_poll(&registry, Some(right_credentials()));
    assert_eq!(
        tokens.tokens_issued(),
        1,
        "the poller keeps its client, and the client its token, across polls"
    );
}
