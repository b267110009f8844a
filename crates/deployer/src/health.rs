//! The HTTP health check: what one probe of a new container looks like and how a series is judged.

use std::time::Duration;

/// How to probe an instance, from the project's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    /// Path requested, such as `/healthz`.
    pub path: String,
    /// Time between probes.
    pub interval: Duration,
    /// Time one probe may take.
    pub timeout: Duration,
    /// Failed probes tolerated after the start period before giving up.
    pub retries: u32,
    /// Time after start during which failures do not count.
    pub start_period: Duration,
}

/// The result of one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// 2xx or 3xx.
    Healthy(u16),
    /// Any other status.
    Unhealthy(u16),
    /// No HTTP answer (refused, timed out, reset).
    NoAnswer(String),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Healthy(status) | Probe::Unhealthy(status) => write!(f, "HTTP {status}"),
            Probe::NoAnswer(why) => write!(f, "no answer ({why})"),
        }
    }
}

/// Sends one GET to `url`. Redirects are not followed: a 3xx already proves the app answers.
pub fn probe(url: &str, timeout: Duration) -> Probe {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    match agent.get(url).call() {
        Ok(response) => {
            let status = response.status().as_u16();
            if (200..400).contains(&status) {
                Probe::Healthy(status)
            } else {
                Probe::Unhealthy(status)
            }
        }
        Err(error) => Probe::NoAnswer(error.to_string()),
    }
}
