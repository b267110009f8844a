//! `cargo xtask bench poll`: what a poll cycle costs when nothing changed.
//!
//! N images `dw-bench/app-NNN:latest` are put on the testbed's open registry straight through
//! its HTTP API (one tiny config and layer, mounted across repositories, and a Docker v2
//! manifest; whatever is already there is kept). A store in a temporary folder gets N projects,
//! each with one polled stage following `latest` with `watch_digest`. After one cycle that
//! records the baselines, R measured cycles of the real [`Poller`] (each must find nothing new)
//! alternate with R rounds of the baseline: the same N `HEAD` requests, with the same `Accept`
//! list and as many in flight as the poller allows per registry, sent with plain ureq and
//! nothing else. The table compares requests per image and wall time with the targets.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use poller::{
    Credentials, FoundTag, PollReport, PollTarget, Poller, PollerConfig, StageOutcome,
    registry::MANIFEST_ACCEPT,
};
use sha2::{Digest, Sha256};
use store::{
    NewConfiguration, NewProject, NewProjectWithStages, NewSettings, NewStage, PlainSecret, Sealed,
    SecretInput, SecretPlace, Store,
};

use crate::{Result, testbed};

const DEFAULT_IMAGES: usize = 500;
const DEFAULT_ROUNDS: usize = 5;
/// Repository `i` is this and `i` in three digits (more when N passes 1000).
const REPOSITORY_PREFIX: &str = "dw-bench/app-";
const TAG: &str = "latest";
/// The manifest type pushed.
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Requests in flight while putting the images on the registry.
const SEED_THREADS: usize = 8;
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// At most this many requests per unchanged image.
const TARGET_REQUESTS_PER_IMAGE: f64 = 1.0;
/// At most this times the baseline's median wall time.
const TARGET_TIME_RATIO: f64 = 1.2;

/// What the command line asked for.
struct Options {
    images: usize,
    rounds: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            images: DEFAULT_IMAGES,
            rounds: DEFAULT_ROUNDS,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value)),
                None => (arg.as_str(), None),
            };
            let slot = match flag {
                "--images" => &mut options.images,
                "--rounds" => &mut options.rounds,
                other => return Err(format!("unexpected argument `{other}`").into()),
            };
            let value = match inline {
                Some(value) => value,
                None => args
                    .next()
                    .ok_or_else(|| format!("`{flag}` needs a number"))?,
            };
            *slot = value
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("`{flag} {value}`: not a positive whole number"))?;
        }
        Ok(options)
    }
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let n = options.images;
    let registry = testbed::registry(root)?;
    let origin = format!("http://{registry}");
    let agent = agent();

    let image = TinyImage::new();
    let started = Instant::now();
    let pushed = seed(&agent, &origin, n, &image)?;
    println!(
        "images: {n} on {registry} ({pushed} pushed, {} already there) in {}",
        n - pushed,
        millis(started.elapsed())
    );

    let dir = tempfile::tempdir()?;
    let store = bench_store(dir.path(), &registry, n)?;
    let config = PollerConfig::default();
    // The poller polls this many stages at once, and its one client for the registry lets this
    // many requests out at once: the baseline gets the smaller of the two.
    let in_flight = config
        .max_concurrent_stages
        .min(config.client.max_concurrent)
        .max(1);
    let poller = Poller::new(store, Arc::new(NoDeploys), config);

    let started = Instant::now();
    let report = poller.poll_once();
    let first_time = started.elapsed();
    let first_requests = requests_sent(&poller);
    check_baselines(&report, n, &image.manifest_digest)?;
    println!(
        "first cycle (records the baselines, not measured): {first_requests} requests in {}",
        millis(first_time)
    );
    // Warms up the baseline's connections the way the first cycle warmed up the poller's.
    head_round(&agent, &origin, n, in_flight, &image.manifest_digest)?;

    let mut poller_times = Vec::with_capacity(options.rounds);
    let mut baseline_times = Vec::with_capacity(options.rounds);
    let mut poller_requests = 0;
    let mut baseline_requests = 0;
    for round in 0..options.rounds {
        // Alternating which goes first cancels drift (caches warming, other load).
        let measure_poller = || -> Result<(Duration, u64)> {
            let before = requests_sent(&poller);
            let started = Instant::now();
            let report = poller.poll_once();
            let time = started.elapsed();
            check_nothing_new(&report, n)?;
            Ok((time, requests_sent(&poller) - before))
        };
        let measure_baseline = || head_round(&agent, &origin, n, in_flight, &image.manifest_digest);
        let ((poll_time, requests), (head_time, heads)) = if round % 2 == 0 {
            let baseline = measure_baseline()?;
            (measure_poller()?, baseline)
        } else {
            let poll = measure_poller()?;
            (poll, measure_baseline()?)
        };
        println!(
            "round {}: poller {} ({requests} requests), baseline {} ({heads} requests)",
            round + 1,
            millis(poll_time),
            millis(head_time),
        );
        poller_times.push(poll_time);
        baseline_times.push(head_time);
        poller_requests += requests;
        baseline_requests += heads;
    }

    let measured = (n * options.rounds) as f64;
    print_table(&Table {
        registry: &registry,
        images: n,
        rounds: options.rounds,
        in_flight,
        poller_per_image: poller_requests as f64 / measured,
        baseline_per_image: baseline_requests as f64 / measured,
        poller_times,
        baseline_times,
    });
    Ok(())
}

/// HTTP requests the poller has sent so far, as its status board shows them after each cycle.
fn requests_sent(poller: &Poller) -> u64 {
    let registries = poller.status().registries();
    registries
        .iter()
        .map(|registry| registry.requests_sent)
        .sum()
}

/// The bench's target: credentials are never needed, and a find is a failed bench.
struct NoDeploys;

impl PollTarget for NoDeploys {
    fn credentials(&self, _registry: &store::Registry) -> Result<Option<Credentials>, String> {
        Ok(None)
    }

    fn found(&self, found: &FoundTag) -> Result<String, String> {
        Err(format!("the bench pushed nothing, yet {found} was found"))
    }
}

/// A store in `dir` with `n` projects `app-NNN`, each with a stage `edge` polling `latest` of
/// its image with `watch_digest`.
fn bench_store(dir: &Path, registry: &str, n: usize) -> Result<Store> {
    let store = Store::open(&dir.join("bench.sqlite"))?;
    let projects = (0..n)
        .map(|i| NewProjectWithStages {
            project: NewProject {
                name: format!("app-{i:03}"),
                image: format!("{registry}/{}", repository(i)),
                registry_id: None,
                port: None,
                health_path: "/".into(),
                health_interval_ms: 1000,
                health_timeout_ms: 2000,
                health_retries: 3,
                health_start_period_ms: 0,
                env: "{}".into(),
                created_at: store::now_ms(),
                volumes: "[]".into(),
                memory_bytes: None,
                nano_cpus: None,
                restart_policy: "unless-stopped".into(),
                stop_timeout_ms: 10_000,
                stop_signal: None,
                health_kind: "http".into(),
                health_status: "200-399".into(),
            },
            registry: None,
            secret_env: Vec::new(),
            stages: vec![NewStage {
                name: "edge".into(),
                tag_pattern: Some(TAG.into()),
                auto_deploy: true,
                max_instances: 1,
                watch_digest: true,
                poll: true,
                ..NewStage::default()
            }],
        })
        .collect();
    let config = NewConfiguration {
        settings: NewSettings {
            domain: "localhost".into(),
            network: "dw-bench".into(),
            subdomain_pattern: "stage-{stage}-{project}".into(),
            route_target: "container_name".into(),
            poll_interval_secs: 300,
            webhook_secret: SecretInput {
                value: PlainSecret::new("bench-webhook-secret-unused"),
                env: None,
            },
            npm: None,
        },
        registries: Vec::new(),
        notifications: Vec::new(),
        projects,
    };
    // Nothing secret is read back: the webhook secret's ciphertext may be anything.
    let seal = |_: SecretPlace, _: &PlainSecret| Sealed::from_bytes(Vec::new());
    store.import_configuration(&config, &seal)?;
    Ok(store)
}

fn repository(i: usize) -> String {
    format!("{REPOSITORY_PREFIX}{i:03}")
}

/// The first cycle must have recorded `latest` of every image, at the digest pushed.
fn check_baselines(report: &PollReport, n: usize, digest: &str) -> Result<()> {
    check_every(
        report,
        n,
        "a baseline of latest at the pushed digest",
        |outcome| {
            matches!(
                outcome,
                StageOutcome::Baseline { tag: Some(tag), digest: Some(found) }
                    if tag == TAG && found == digest
            )
        },
    )
}

fn check_nothing_new(report: &PollReport, n: usize) -> Result<()> {
    check_every(report, n, "nothing new", |outcome| {
        *outcome == StageOutcome::NothingNew
    })
}

/// Fails, listing a few offenders, unless the report has all `n` stages and each is `expected`.
fn check_every(
    report: &PollReport,
    n: usize,
    expected: &str,
    ok: impl Fn(&StageOutcome) -> bool,
) -> Result<()> {
    let wrong: Vec<String> = report
        .stages
        .iter()
        .filter(|stage| !ok(&stage.outcome))
        .map(ToString::to_string)
        .collect();
    if report.stages.len() == n && wrong.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = wrong.iter().take(5).map(String::as_str).collect();
    Err(format!(
        "the poller reported {} stage(s) of {n}, {} of them not {expected}:\n  {}",
        report.stages.len(),
        wrong.len(),
        shown.join("\n  ")
    )
    .into())
}

/// The baseline: `HEAD /v2/<repository>/manifests/latest` of every image, `in_flight` at a
/// time, each checked for the pushed digest. Returns the wall time and the requests sent.
fn head_round(
    agent: &ureq::Agent,
    origin: &str,
    n: usize,
    in_flight: usize,
    digest: &str,
) -> Result<(Duration, u64)> {
    let next = AtomicUsize::new(0);
    let sent = AtomicU64::new(0);
    let head = || -> Result<(), String> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return Ok(());
            }
            let url = format!("{origin}/v2/{}/manifests/{TAG}", repository(i));
            sent.fetch_add(1, Ordering::Relaxed);
            let response = agent
                .head(&url)
                .header("Accept", MANIFEST_ACCEPT)
                .call()
                .map_err(|err| format!("HEAD {url}: {err}"))?;
            let found = response
                .headers()
                .get("docker-content-digest")
                .and_then(|value| value.to_str().ok());
            if response.status() != 200 || found != Some(digest) {
                return Err(format!(
                    "HEAD {url}: {} with digest {found:?}, expected 200 with {digest}",
                    response.status()
                ));
            }
        }
    };
    let started = Instant::now();
    let results: Vec<Result<(), String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..in_flight).map(|_| scope.spawn(head)).collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a baseline thread panicked".into()))
            })
            .collect()
    });
    let time = started.elapsed();
    results.into_iter().collect::<Result<(), String>>()?;
    Ok((time, sent.into_inner()))
}

/// An agent configured like the registry client's: answers are read, not turned into errors.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .http_status_as_error(false)
        .user_agent("docker-watcher-bench")
        .build()
        .into()
}

// --- The images ---------------------------------------------------------------------------

/// One blob and its digest.
struct Blob {
    digest: String,
    bytes: Vec<u8>,
}

impl Blob {
    fn new(bytes: Vec<u8>) -> Blob {
        Blob {
            digest: sha256(&bytes),
            bytes,
        }
    }
}

/// The image every bench repository holds: an empty layer and a config naming it.
struct TinyImage {
    config: Blob,
    layer: Blob,
    manifest: Vec<u8>,
    manifest_digest: String,
}

impl TinyImage {
    fn new() -> TinyImage {
        // An empty tar archive is two zero blocks.
        let tar = vec![0u8; 1024];
        let layer = Blob::new(gzip_stored(&tar));
        let config = Blob::new(
            format!(
                r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
                sha256(&tar)
            )
            .into_bytes(),
        );
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{},"digest":"{}"}}]}}"#,
            config.bytes.len(),
            config.digest,
            layer.bytes.len(),
            layer.digest
        )
        .into_bytes();
        TinyImage {
            manifest_digest: sha256(&manifest),
            config,
            layer,
            manifest,
        }
    }
}

/// Makes sure every bench repository has [`TinyImage`] as `latest`; returns how many it pushed.
/// The first goes alone, so the others can mount its blobs instead of uploading them.
fn seed(agent: &ureq::Agent, origin: &str, n: usize, image: &TinyImage) -> Result<usize> {
    let source = repository(0);
    let mut pushed = usize::from(ensure_image(agent, origin, &source, &source, image)?);
    let next = AtomicUsize::new(1);
    let count = AtomicUsize::new(0);
    let work = || -> Result<(), String> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return Ok(());
            }
            if ensure_image(agent, origin, &repository(i), &source, image)? {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    let results: Vec<Result<(), String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..SEED_THREADS).map(|_| scope.spawn(work)).collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a seeding thread panicked".into()))
            })
            .collect()
    });
    results.into_iter().collect::<Result<(), String>>()?;
    pushed += count.into_inner();
    Ok(pushed)
}

/// Pushes `image` as `repository:latest` unless it is there already; `true` when it pushed.
fn ensure_image(
    agent: &ureq::Agent,
    origin: &str,
    repository: &str,
    source: &str,
    image: &TinyImage,
) -> Result<bool, String> {
    let url = format!("{origin}/v2/{repository}/manifests/{TAG}");
    let present = agent
        .head(&url)
        .header("Accept", DOCKER_MANIFEST)
        .call()
        .map_err(|err| format!("HEAD {url}: {err}"))?;
    let digest = present
        .headers()
        .get("docker-content-digest")
        .and_then(|value| value.to_str().ok());
    if present.status() == 200 && digest == Some(image.manifest_digest.as_str()) {
        return Ok(false);
    }
    for blob in [&image.config, &image.layer] {
        ensure_blob(agent, origin, repository, source, blob)?;
    }
    let mut response = agent
        .put(&url)
        .header("Content-Type", DOCKER_MANIFEST)
        .send(&image.manifest[..])
        .map_err(|err| format!("PUT {url}: {err}"))?;
    if response.status() != 201 {
        let body = response.body_mut().read_to_string().unwrap_or_default();
        return Err(format!("PUT {url}: {} {body}", response.status()));
    }
    Ok(true)
}

/// Mounts `blob` into `repository` from `source`, or uploads it when `source` lacks it.
fn ensure_blob(
    agent: &ureq::Agent,
    origin: &str,
    repository: &str,
    source: &str,
    blob: &Blob,
) -> Result<(), String> {
    let url = format!(
        "{origin}/v2/{repository}/blobs/uploads/?mount={}&from={source}",
        blob.digest
    );
    let mut response = agent
        .post(&url)
        .send_empty()
        .map_err(|err| format!("POST {url}: {err}"))?;
    match response.status().as_u16() {
        201 => return Ok(()),
        202 => {}
        status => {
            let body = response.body_mut().read_to_string().unwrap_or_default();
            return Err(format!("POST {url}: {status} {body}"));
        }
    }
    // Not mounted: an upload was started instead; finish it in one request.
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| format!("POST {url}: 202 without a Location"))?;
    let upload = if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        location.to_owned()
    };
    let separator = if upload.contains('?') { '&' } else { '?' };
    let put = format!("{upload}{separator}digest={}", blob.digest);
    let mut response = agent
        .put(&put)
        .header("Content-Type", "application/octet-stream")
        .send(&blob.bytes[..])
        .map_err(|err| format!("PUT {put}: {err}"))?;
    if response.status() != 201 {
        let body = response.body_mut().read_to_string().unwrap_or_default();
        return Err(format!("PUT {put}: {} {body}", response.status()));
    }
    Ok(())
}

fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// `data` (at most 64 KiB) as a gzip file of one stored deflate block: valid, uncompressed.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("a stored block holds at most 64 KiB");
    // Magic, deflate, no flags, no time, no extra flags, unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // The final block, stored: its length and the length's complement.
    out.push(1);
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend(data);
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE), as gzip checks it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// --- The report ----------------------------------------------------------------------------

struct Table<'a> {
    registry: &'a str,
    images: usize,
    rounds: usize,
    in_flight: usize,
    poller_per_image: f64,
    baseline_per_image: f64,
    poller_times: Vec<Duration>,
    baseline_times: Vec<Duration>,
}

fn print_table(table: &Table<'_>) {
    let poller_median = median(&table.poller_times);
    let baseline_median = median(&table.baseline_times);
    let poller_min = table.poller_times.iter().min().copied().unwrap_or_default();
    let baseline_min = table
        .baseline_times
        .iter()
        .min()
        .copied()
        .unwrap_or_default();
    let ratio = poller_median.as_secs_f64() / baseline_median.as_secs_f64().max(f64::EPSILON);
    let min_ratio = poller_min.as_secs_f64() / baseline_min.as_secs_f64().max(f64::EPSILON);
    let per_image =
        |time: Duration| format!("{:.0} µs", time.as_secs_f64() * 1e6 / table.images as f64);
    let verdict = |pass: bool| if pass { "PASS" } else { "MISS" };
    let rows = [
        [
            "requests / image".to_owned(),
            format!("{:.2}", table.poller_per_image),
            format!("{:.2}", table.baseline_per_image),
            String::new(),
            format!("<= {TARGET_REQUESTS_PER_IMAGE:.1}"),
            verdict(table.poller_per_image <= TARGET_REQUESTS_PER_IMAGE).to_owned(),
        ],
        [
            "median wall time".to_owned(),
            millis(poller_median),
            millis(baseline_median),
            format!("{ratio:.2}x"),
            format!("<= {TARGET_TIME_RATIO:.1}x"),
            verdict(ratio <= TARGET_TIME_RATIO).to_owned(),
        ],
        [
            "min wall time".to_owned(),
            millis(poller_min),
            millis(baseline_min),
            format!("{min_ratio:.2}x"),
            String::new(),
            String::new(),
        ],
        [
            "median per image".to_owned(),
            per_image(poller_median),
            per_image(baseline_median),
            String::new(),
            String::new(),
            String::new(),
        ],
    ];
    let header = ["", "poller", "baseline", "ratio", "target", ""].map(str::to_owned);
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    println!(
        "\npoll bench: {} unchanged images on {}, {} rounds, {} requests in flight, {} build",
        table.images,
        table.registry,
        table.rounds,
        table.in_flight,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(column, (cell, &width))| match column {
                0 | 4 | 5 => format!("{cell:<width$}"),
                _ => format!("{cell:>width$}"),
            })
            .collect();
        println!("  {}", cells.join("   ").trim_end());
    }
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        len if len % 2 == 1 => sorted[len / 2],
        len => (sorted[len / 2 - 1] + sorted[len / 2]) / 2,
    }
}

fn millis(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn the_empty_layer_is_a_gzip_file_of_the_tar() {
        let gzip = gzip_stored(&[0; 1024]);
        assert_eq!(gzip.len(), 10 + 5 + 1024 + 8);
        assert_eq!(&gzip[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(&gzip[11..15], &[0x00, 0x04, 0xff, 0xfb]);
    }

    #[test]
    fn options_have_defaults_and_take_both_spellings() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = Options::parse(&[]).unwrap();
        assert_eq!((options.images, options.rounds), (500, 5));
        let options = Options::parse(&args(&["--images", "20", "--rounds=3"])).unwrap();
        assert_eq!((options.images, options.rounds), (20, 3));
        assert!(Options::parse(&args(&["--images", "0"])).is_err());
        assert!(Options::parse(&args(&["--images"])).is_err());
        assert!(Options::parse(&args(&["--fast"])).is_err());
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(
            median(&[ms(4), ms(1), ms(2), ms(3)]),
            ms(2) + ms(500) / 1000
        );
    }
}
