//! The health gate: when a new container counts as ready to take traffic.
//!
//! Two kinds of check. `http` sends GET requests to the container and passes on a status in the
//! accepted ranges ([`StatusRanges`], 200–399 by default). `docker` follows the container's own
//! HEALTHCHECK as the engine reports it; an image without one passes once it has run for a grace
//! period. Either way a container that exits fails the deploy at once (the pipeline checks).
//!
//! Everything here is pure except [`probe`]: the probe schedule ([`Schedule`]), how failures are
//! counted against `retries` ([`FailureTally`]) and how long a Docker health check may stay
//! `starting` ([`docker_deadline`]) are plain functions of elapsed time, so they are unit-tested
//! without clocks.

use std::fmt;
use std::time::Duration;

use docker_client::Healthcheck;
use store::Project;

/// How a new container is judged healthy (the project's `health.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthKind {
    /// GET `path` until it answers a status in the accepted ranges.
    Http,
    /// Wait for the container's own HEALTHCHECK to report `healthy`.
    Docker,
}

impl HealthKind {
    /// The names written in configuration, in the order they are listed in messages.
    pub const NAMES: [&'static str; 2] = ["http", "docker"];

    /// `http` or `docker`.
    pub fn parse(name: &str) -> Option<HealthKind> {
        match name {
            "http" => Some(HealthKind::Http),
            "docker" => Some(HealthKind::Docker),
            _ => None,
        }
    }

    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthKind::Http => "http",
            HealthKind::Docker => "docker",
        }
    }
}

/// The HTTP statuses a probe accepts: sorted, merged, inclusive ranges. Written as
/// `200-399`, `200` or several separated by commas (`200-299,301,304`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRanges(Vec<(u16, u16)>);

impl StatusRanges {
    /// What a project accepts unless it says otherwise: any 2xx or 3xx.
    pub const DEFAULT: &'static str = "200-399";

    /// Parses `200-399`, `204` or a comma-separated list of both; statuses are 100 to 599.
    /// The error says what is wrong, without the key path.
    pub fn parse(text: &str) -> Result<StatusRanges, String> {
        let mut ranges = Vec::new();
        for item in text.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!(
                    "invalid status range {text:?}: write a status such as 200 or a range such as 200-399, several separated by commas"
                ));
            }
            let (low, high) = match item.split_once('-') {
                Some((low, high)) => (status(low.trim(), text)?, status(high.trim(), text)?),
                None => {
                    let single = status(item, text)?;
                    (single, single)
                }
            };
            if low > high {
                return Err(format!(
                    "invalid status range {item:?}: {low} is above {high}"
                ));
            }
            ranges.push((low, high));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match merged.last_mut() {
                Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
                _ => merged.push((low, high)),
            }
        }
        Ok(StatusRanges(merged))
    }

    /// Whether a probe answering `status` passes.
    pub fn contains(&self, status: u16) -> bool {
        self.0
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }
}

/// One status of a range, 100 to 599.
fn status(text: &str, whole: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(status) if (100..=599).contains(&status) => Ok(status),
        Ok(status) => Err(format!(
            "invalid status range {whole:?}: {status} is not an HTTP status (100 to 599)"
        )),
        Err(_) => Err(format!(
            "invalid status range {whole:?}: write a status such as 200 or a range such as 200-399, several separated by commas"
        )),
    }
}

impl Default for StatusRanges {
    fn default() -> StatusRanges {
        StatusRanges(vec![(200, 399)])
    }
}

/// The canonical form, which [`StatusRanges::parse`] reads back to the same value.
impl fmt::Display for StatusRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, &(low, high)) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            if low == high {
                write!(f, "{low}")?;
            } else {
                write!(f, "{low}-{high}")?;
            }
        }
        Ok(())
    }
}

/// How to judge an instance, from the project's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    pub kind: HealthKind,
    /// Path requested, such as `/healthz` (`http` only).
    pub path: String,
    /// Statuses that pass (`http` only).
    pub accepted: StatusRanges,
    /// The longest wait between two probes; the first ones come sooner (see [`Schedule`]).
    pub interval: Duration,
    /// Time one probe may take (`http` only).
    pub timeout: Duration,
    /// Failed probes tolerated after the start period before giving up (`http` only).
    pub retries: u32,
    /// `http`: time after start during which failures do not count. `docker`: for an image
    /// without HEALTHCHECK, how long it must run (at least [`MIN_DOCKER_GRACE`]).
    pub start_period: Duration,
}

impl HealthCheck {
    /// The check a project's row describes. Stored values were checked on the way in; anything
    /// unreadable falls back to the defaults (an HTTP check accepting 2xx and 3xx).
    pub fn of(project: &Project) -> HealthCheck {
        let millis = |ms: i64| Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        HealthCheck {
            kind: HealthKind::parse(&project.health_kind).unwrap_or(HealthKind::Http),
            path: project.health_path.clone(),
            accepted: StatusRanges::parse(&project.health_status).unwrap_or_default(),
            interval: millis(project.health_interval_ms),
            timeout: millis(project.health_timeout_ms),
            retries: u32::try_from(project.health_retries).unwrap_or(1).max(1),
            start_period: millis(project.health_start_period_ms),
        }
    }
}

/// The result of one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// A status in the accepted ranges.
    Healthy(u16),
    /// Any other status.
    Unhealthy(u16),
    /// No HTTP answer (refused, timed out, reset).
    NoAnswer(String),
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Healthy(status) | Probe::Unhealthy(status) => write!(f, "HTTP {status}"),
            Probe::NoAnswer(why) => write!(f, "no answer ({why})"),
        }
    }
}

/// Sends one GET to `url`. Redirects are not followed: a 3xx already proves the app answers.
pub fn probe(url: &str, timeout: Duration, accepted: &StatusRanges) -> Probe {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    match agent.get(url).call() {
        Ok(response) => {
            let status = response.status().as_u16();
            if accepted.contains(status) {
                Probe::Healthy(status)
            } else {
                Probe::Unhealthy(status)
            }
        }
        Err(error) => Probe::NoAnswer(error.to_string()),
    }
}

/// The wait before the second probe; each later wait doubles.
pub const FIRST_STEP: Duration = Duration::from_millis(25);
/// The longest wait during the fast phase: readiness is seen within this (plus one probe).
pub const FAST_STEP: Duration = Duration::from_millis(100);
/// The fast phase lasts the start period, but at least this long…
pub const MIN_FAST_PHASE: Duration = Duration::from_secs(5);
/// …and at most this long.
pub const MAX_FAST_PHASE: Duration = Duration::from_secs(30);

/// When to probe next. Most apps are ready within seconds, so the first probes come quickly:
/// waits start at [`FIRST_STEP`] and double, held at [`FAST_STEP`] during the fast phase (the
/// start period, bounded by [`MIN_FAST_PHASE`] and [`MAX_FAST_PHASE`]) and then doubling on up to
/// `interval`, which no wait exceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    interval: Duration,
    fast_phase: Duration,
}

impl Schedule {
    pub fn new(interval: Duration, start_period: Duration) -> Schedule {
        Schedule {
            // A zero interval would spin; configuration refuses it, this guards stored rows.
            interval: interval.max(Duration::from_millis(1)),
            fast_phase: start_period.clamp(MIN_FAST_PHASE, MAX_FAST_PHASE),
        }
    }

    /// The wait after a probe that ended `elapsed` after the container started, given the
    /// previous wait (`None` after the first probe).
    pub fn next_delay(&self, previous: Option<Duration>, elapsed: Duration) -> Duration {
        let grown = match previous {
            None => FIRST_STEP,
            Some(previous) => previous.saturating_mul(2),
        };
        let capped = if elapsed < self.fast_phase {
            grown.min(FAST_STEP)
        } else {
            grown
        };
        capped.min(self.interval)
    }
}

/// How one failed probe counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// During the start period: not counted.
    StartPeriod,
    /// Less than an interval after the last counted failure: an extra early probe, not counted.
    Between,
    /// Counted: the `number`th failure of `retries`.
    Failure { number: u32, retries: u32 },
}

impl Counted {
    /// Whether this failure used up the last retry.
    pub fn exhausted(self) -> bool {
        matches!(self, Counted::Failure { number, retries } if number >= retries)
    }
}

/// Counts failed probes against `retries`: none during the start period, then at most one per
/// interval, so the fast early probes of [`Schedule`] do not give up sooner than
/// `start period + retries × interval`.
#[derive(Debug, Clone)]
pub struct FailureTally {
    start_period: Duration,
    interval: Duration,
    retries: u32,
    counted: u32,
    last_counted: Option<Duration>,
}

impl FailureTally {
    pub fn new(check: &HealthCheck) -> FailureTally {
        FailureTally {
            start_period: check.start_period,
            interval: check.interval,
            retries: check.retries.max(1),
            counted: 0,
            last_counted: None,
        }
    }

    /// Records a failed probe that ended `elapsed` after the container started.
    pub fn record(&mut self, elapsed: Duration) -> Counted {
        if elapsed < self.start_period {
            return Counted::StartPeriod;
        }
        if let Some(last) = self.last_counted
            && elapsed.saturating_sub(last) < self.interval
        {
            return Counted::Between;
        }
        self.counted += 1;
        self.last_counted = Some(elapsed);
        Counted::Failure {
            number: self.counted,
            retries: self.retries,
        }
    }
}

/// What the engine uses for a HEALTHCHECK setting left out.
pub const DOCKER_DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DOCKER_DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DOCKER_DEFAULT_RETRIES: u32 = 3;
/// Slack on top of the longest a HEALTHCHECK can take to decide, for the engine's own pace.
pub const DOCKER_MARGIN: Duration = Duration::from_secs(5);
/// However slow its HEALTHCHECK, a container has this long to become healthy.
pub const MAX_DOCKER_WAIT: Duration = Duration::from_secs(600);
/// An image without HEALTHCHECK passes after running this long, or its start period if longer.
pub const MIN_DOCKER_GRACE: Duration = Duration::from_secs(3);

/// How long a container's HEALTHCHECK may stay `starting` before the deploy gives up: the longest
/// it can take to turn `unhealthy` (start period, a first interval, then `retries` failed runs of
/// interval plus timeout) and [`DOCKER_MARGIN`], at most [`MAX_DOCKER_WAIT`].
pub fn docker_deadline(check: &Healthcheck) -> Duration {
    let interval = check.interval.unwrap_or(DOCKER_DEFAULT_INTERVAL);
    let timeout = check.timeout.unwrap_or(DOCKER_DEFAULT_TIMEOUT);
    let retries = check.retries.unwrap_or(DOCKER_DEFAULT_RETRIES);
    check
        .start_period
        .unwrap_or_default()
        .saturating_add(interval)
        .saturating_add(interval.saturating_add(timeout).saturating_mul(retries))
        .saturating_add(DOCKER_MARGIN)
        .min(MAX_DOCKER_WAIT)
}

/// How long a container without HEALTHCHECK must keep running to count as healthy.
pub fn docker_grace(start_period: Duration) -> Duration {
    start_period.clamp(MIN_DOCKER_GRACE, MAX_DOCKER_WAIT)
}

/// Where a `docker` check stands after one look at the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerVerdict {
    /// The HEALTHCHECK reports `healthy`.
    Healthy,
    /// No HEALTHCHECK, and the container has run for the grace period.
    GraceOver,
    /// Not decided yet: look again.
    Waiting,
    /// The HEALTHCHECK reports `unhealthy`.
    Unhealthy,
    /// The HEALTHCHECK is still `starting` past its deadline.
    TimedOut,
}

/// Judges the engine's health status (`None` when the container has no HEALTHCHECK) seen
/// `elapsed` after the container started. `deadline` applies while `starting`, `grace` without
/// a HEALTHCHECK.
pub fn docker_verdict(
    status: Option<&str>,
    elapsed: Duration,
    deadline: Duration,
    grace: Duration,
) -> DockerVerdict {
    match status {
        Some("healthy") => DockerVerdict::Healthy,
        Some("unhealthy") => DockerVerdict::Unhealthy,
        None if elapsed >= grace => DockerVerdict::GraceOver,
        None => DockerVerdict::Waiting,
        // "starting", or a status this version does not know: wait, up to the deadline.
        Some(_) if elapsed >= deadline => DockerVerdict::TimedOut,
        Some(_) => DockerVerdict::Waiting,
    }
}

/// Keeps repeated probe results out of the deploy log: a line is written when it says something
/// new or when `every` has passed since the last one written.
#[derive(Debug, Clone)]
pub struct Throttle {
    every: Duration,
    last: Option<(Duration, String)>,
}

impl Throttle {
    pub fn new(every: Duration) -> Throttle {
        Throttle { every, last: None }
    }

    /// Whether to write `line`, seen `elapsed` after the start; remembers it when so.
    pub fn admit(&mut self, elapsed: Duration, line: &str) -> bool {
        let admit = match &self.last {
            None => true,
            Some((at, last)) => last != line || elapsed.saturating_sub(*at) >= self.every,
        };
        if admit {
            self.last = Some((elapsed, line.to_string()));
        }
        admit
    }
}

/// The longest part of a HEALTHCHECK's output a deploy's reason quotes.
pub const REASON_OUTPUT_CHARS: usize = 300;

/// A HEALTHCHECK's output as one line for a reason: lines joined with " / ", cut to
/// [`REASON_OUTPUT_CHARS`] characters.
pub fn one_line(output: &str) -> String {
    let joined = output
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    match joined.char_indices().nth(REASON_OUTPUT_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// The waits of a schedule when probes take no time, until `until` has passed.
    fn waits(schedule: &Schedule, until: Duration) -> Vec<u64> {
        let mut elapsed = Duration::ZERO;
        let mut previous = None;
        let mut waits = Vec::new();
        while elapsed < until {
            let wait = schedule.next_delay(previous, elapsed);
            waits.push(wait.as_millis() as u64);
            elapsed += wait;
            previous = Some(wait);
        }
        waits
    }

    #[test]
    fn status_ranges_accept_ranges_single_statuses_and_lists() {
        let default = StatusRanges::parse(StatusRanges::DEFAULT).unwrap();
        assert_eq!(default, StatusRanges::default());
        assert!(default.contains(200) && default.contains(302) && default.contains(399));
        assert!(!default.contains(199) && !default.contains(400) && !default.contains(503));

        let list = StatusRanges::parse(" 404 , 200-204,500-599").unwrap();
        assert_eq!(list.to_string(), "200-204,404,500-599");
        assert!(list.contains(404) && list.contains(203) && list.contains(599));
        assert!(!list.contains(205) && !list.contains(403));
        assert_eq!(StatusRanges::parse("418").unwrap().to_string(), "418");
    }

    #[test]
    fn status_ranges_are_merged_and_their_text_reads_back_the_same() {
        let ranges = StatusRanges::parse("300-399,200-299,250,400").unwrap();
        assert_eq!(ranges.to_string(), "200-400");
        for text in ["200-399", "204", "200-204,404,500-599", "100-599"] {
            let parsed = StatusRanges::parse(text).unwrap();
            assert_eq!(parsed.to_string(), text);
            assert_eq!(StatusRanges::parse(&parsed.to_string()).unwrap(), parsed);
        }
    }

    #[test]
    fn bad_status_ranges_say_what_is_wrong() {
        for (text, says) in [
            ("", "write a status such as 200"),
            ("200-", "write a status such as 200"),
            ("200,,300", "write a status such as 200"),
            ("ok", "write a status such as 200"),
            ("2xx", "write a status such as 200"),
            ("-5", "write a status such as 200"),
            ("99", "99 is not an HTTP status (100 to 599)"),
            ("200-600", "600 is not an HTTP status"),
            ("70000", "write a status such as 200"),
            ("399-200", "\"399-200\": 399 is above 200"),
        ] {
            let error = StatusRanges::parse(text).unwrap_err();
            assert!(
                error.starts_with("invalid status range") && error.contains(says),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn kinds_have_one_name_each() {
        for name in HealthKind::NAMES {
            assert_eq!(HealthKind::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(HealthKind::parse("HTTP"), None);
        assert_eq!(HealthKind::parse("tcp"), None);
    }

    #[test]
    fn the_schedule_starts_at_25ms_doubles_and_holds_at_100ms_while_fast() {
        let schedule = Schedule::new(Duration::from_secs(1), Duration::ZERO);
        let first = waits(&schedule, ms(1_000));
        assert_eq!(&first[..5], [25, 50, 100, 100, 100]);
        // The whole fast phase (5 s when the start period is shorter) probes every 100 ms at most:
        // an app that becomes ready is seen within 100 ms of it.
        let fast = waits(&schedule, MIN_FAST_PHASE);
        assert!(fast.iter().all(|&wait| wait <= 100), "{fast:?}");
        assert_eq!(fast.len(), 2 + (5_000 - 75) / 100 + 1);
    }

    #[test]
    fn after_the_fast_phase_waits_double_up_to_the_interval() {
        let schedule = Schedule::new(Duration::from_secs(1), Duration::ZERO);
        let all = waits(&schedule, Duration::from_secs(12));
        let slow: Vec<u64> = all.iter().copied().skip_while(|&w| w <= 100).collect();
        assert_eq!(&slow[..4], [200, 400, 800, 1000]);
        assert!(slow[3..].iter().all(|&w| w == 1000), "{slow:?}");
    }

    #[test]
    fn the_fast_phase_follows_the_start_period_within_bounds() {
        let at = |start_period: u64, elapsed: u64| {
            Schedule::new(Duration::from_secs(2), Duration::from_secs(start_period))
                .next_delay(Some(ms(100)), Duration::from_secs(elapsed))
        };
        assert_eq!(at(0, 4), ms(100));
        assert_eq!(at(0, 5), ms(200), "the fast phase lasts 5 s at least");
        assert_eq!(at(20, 19), ms(100));
        assert_eq!(at(20, 20), ms(200));
        assert_eq!(at(120, 29), ms(100));
        assert_eq!(at(120, 30), ms(200), "and 30 s at most");
    }

    #[test]
    fn no_wait_is_longer_than_the_interval() {
        let short = Schedule::new(ms(40), Duration::ZERO);
        assert_eq!(&waits(&short, ms(300))[..4], [25, 40, 40, 40]);
        let tiny = Schedule::new(ms(10), Duration::from_secs(60));
        assert!(waits(&tiny, ms(500)).iter().all(|&wait| wait == 10));
        let zero = Schedule::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(zero.next_delay(None, Duration::ZERO), ms(1));
    }

    fn check(interval_ms: u64, retries: u32, start_period_ms: u64) -> HealthCheck {
        HealthCheck {
            kind: HealthKind::Http,
            path: "/healthz".into(),
            accepted: StatusRanges::default(),
            interval: ms(interval_ms),
            timeout: ms(1000),
            retries,
            start_period: ms(start_period_ms),
        }
    }

    #[test]
    fn failures_count_after_the_start_period_and_once_per_interval() {
        let mut tally = FailureTally::new(&check(1000, 3, 2000));
        assert_eq!(tally.record(ms(0)), Counted::StartPeriod);
        assert_eq!(tally.record(ms(1999)), Counted::StartPeriod);
        let first = tally.record(ms(2000));
        assert_eq!(
            first,
            Counted::Failure {
                number: 1,
                retries: 3
            }
        );
        assert!(!first.exhausted());
        assert_eq!(tally.record(ms(2100)), Counted::Between);
        assert_eq!(tally.record(ms(2999)), Counted::Between);
        assert!(matches!(
            tally.record(ms(3000)),
            Counted::Failure { number: 2, .. }
        ));
        let last = tally.record(ms(4500));
        assert!(matches!(last, Counted::Failure { number: 3, .. }));
        assert!(last.exhausted());
    }

    #[test]
    fn probing_on_the_schedule_gives_up_after_retries_intervals_not_sooner() {
        // A container that never answers: follow the schedule and the tally together.
        let check = check(1000, 5, 0);
        let schedule = Schedule::new(check.interval, check.start_period);
        let mut tally = FailureTally::new(&check);
        let (mut elapsed, mut previous) = (Duration::ZERO, None);
        let given_up = loop {
            if tally.record(elapsed).exhausted() {
                break elapsed;
            }
            let wait = schedule.next_delay(previous, elapsed);
            elapsed += wait;
            previous = Some(wait);
        };
        assert!(given_up >= ms(4000), "gave up after {given_up:?}");
        assert!(given_up <= ms(4100), "gave up after {given_up:?}");
    }

    #[test]
    fn a_docker_deadline_covers_the_healthcheck_settings_or_the_engine_defaults() {
        let own = Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            interval: Some(ms(1000)),
            timeout: Some(ms(2000)),
            start_period: Some(ms(4000)),
            retries: Some(2),
        };
        // 4 s start + 1 s first interval + 2 × (1 s + 2 s) + 5 s margin.
        assert_eq!(docker_deadline(&own), Duration::from_secs(16));
        let defaults = Healthcheck {
            interval: None,
            timeout: None,
            start_period: None,
            retries: None,
            ..own.clone()
        };
        // 30 s first interval + 3 × (30 s + 30 s) + 5 s.
        assert_eq!(docker_deadline(&defaults), Duration::from_secs(215));
        let slow = Healthcheck {
            interval: Some(Duration::from_secs(300)),
            ..own
        };
        assert_eq!(docker_deadline(&slow), MAX_DOCKER_WAIT);
    }

    #[test]
    fn without_healthcheck_the_grace_is_the_start_period_but_a_few_seconds_at_least() {
        assert_eq!(docker_grace(Duration::ZERO), MIN_DOCKER_GRACE);
        assert_eq!(docker_grace(ms(500)), MIN_DOCKER_GRACE);
        assert_eq!(
            docker_grace(Duration::from_secs(20)),
            Duration::from_secs(20)
        );
        assert_eq!(docker_grace(Duration::from_secs(3600)), MAX_DOCKER_WAIT);
    }

    #[test]
    fn docker_statuses_are_judged_against_the_deadline_and_the_grace() {
        let (deadline, grace) = (Duration::from_secs(16), Duration::from_secs(3));
        let verdict =
            |status, secs| docker_verdict(status, Duration::from_secs(secs), deadline, grace);
        assert_eq!(verdict(Some("healthy"), 0), DockerVerdict::Healthy);
        assert_eq!(verdict(Some("unhealthy"), 0), DockerVerdict::Unhealthy);
        assert_eq!(verdict(Some("starting"), 15), DockerVerdict::Waiting);
        assert_eq!(verdict(Some("starting"), 16), DockerVerdict::TimedOut);
        assert_eq!(verdict(Some("something-new"), 16), DockerVerdict::TimedOut);
        assert_eq!(verdict(None, 2), DockerVerdict::Waiting);
        assert_eq!(verdict(None, 3), DockerVerdict::GraceOver);
        // A check that already decided wins over the clock.
        assert_eq!(verdict(Some("healthy"), 100), DockerVerdict::Healthy);
    }

    #[test]
    fn the_throttle_writes_what_is_new_and_repeats_once_per_interval() {
        let mut throttle = Throttle::new(ms(1000));
        assert!(throttle.admit(ms(0), "no answer"));
        assert!(!throttle.admit(ms(25), "no answer"));
        assert!(!throttle.admit(ms(999), "no answer"));
        assert!(throttle.admit(ms(1000), "no answer"));
        assert!(throttle.admit(ms(1100), "HTTP 503"));
        assert!(!throttle.admit(ms(1200), "HTTP 503"));
        assert!(throttle.admit(ms(1300), "no answer"));
    }

    #[test]
    fn healthcheck_output_becomes_one_bounded_line() {
        assert_eq!(one_line("  database unreachable\n"), "database unreachable");
        assert_eq!(one_line("a\n\n  b \r\nc"), "a / b / c");
        let long = "é".repeat(REASON_OUTPUT_CHARS + 10);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), REASON_OUTPUT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(one_line(""), "");
    }
}
