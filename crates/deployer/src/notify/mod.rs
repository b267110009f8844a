//! Notifications: telling people what happened to a deploy, in the formats of the services they
//! read.
//!
//! A [`Notice`] is one event (a deploy succeeded, failed, waits for approval, or rolled a stage
//! back) with its facts. The [`Notifier`] sends it to every configured target on a background
//! thread, in the target's format (one module each: [`webhook`] for the generic JSON document,
//! [`ntfy`], [`gotify`], [`discord`], [`slack`]), with a few retries. Sending never blocks or fails
//! a deploy; a target that cannot be reached is logged by its kind and host only (target URLs
//! carry tokens), and said in the deploy's log.

mod discord;
mod gotify;
mod ntfy;
mod sender;
mod slack;
mod webhook;

use store::{Deploy, DeployStatus, DeployView};

pub use sender::{Delivery, Notifier};

/// Something that happened to a deploy that people want to hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The deploy is running and serving.
    Succeeded(Facts),
    /// The deploy failed; `reason` says why. The previous instance keeps serving.
    Failed(Facts),
    /// The stage deploys only what a person approves: this deploy waits for that.
    WaitingApproval(Facts),
    /// The stage went back to an earlier version; the facts are those of the deploy that
    /// brought it back, `reason` may say why.
    RolledBack(Facts),
}

/// What a notice says about its deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// The deploy's id.
    pub deploy_id: i64,
    /// Project name.
    pub project: String,
    /// Stage name.
    pub stage: String,
    /// The tag deployed.
    pub tag: String,
    /// The full image reference deployed.
    pub image: String,
    /// The image digest, when known.
    pub digest: Option<String>,
    /// The deploy's status (`succeeded`, `failed`, `waiting_approval`, ...).
    pub status: String,
    /// Why it failed (or why it was rolled back).
    pub reason: Option<String>,
    /// When it happened, ms since the epoch.
    pub at_ms: i64,
}

impl Facts {
    /// The facts of a deploy row, with its project's and stage's names. `at` is when the deploy
    /// finished, or now when it has not.
    pub fn new(deploy: &Deploy, project: &str, stage: &str) -> Facts {
        Facts {
            deploy_id: deploy.id,
            project: project.to_owned(),
            stage: stage.to_owned(),
            tag: deploy.tag.clone(),
            image: deploy.image.clone(),
            digest: deploy.digest.clone(),
            status: deploy.status.as_str().to_owned(),
            reason: deploy.reason.clone(),
            at_ms: deploy.finished_at.unwrap_or_else(store::now_ms),
        }
    }

    /// The facts of a deploy as the store shows it.
    pub fn of_view(view: &DeployView) -> Facts {
        Facts::new(&view.deploy, &view.project, &view.stage)
    }
}

impl Notice {
    /// The notice for a deploy that has ended: succeeded or failed. None for any other status.
    pub fn finished(view: &DeployView) -> Option<Notice> {
        let facts = Facts::of_view(view);
        match view.deploy.status {
            DeployStatus::Succeeded if view.deploy.trigger == store::Trigger::Rollback => {
                Some(Notice::RolledBack(facts))
            }
            DeployStatus::Succeeded => Some(Notice::Succeeded(facts)),
            DeployStatus::Failed => Some(Notice::Failed(facts)),
            _ => None,
        }
    }

    /// The event name of a request for approval.
    pub const WAITING_APPROVAL: &'static str = "waiting_approval";

    /// The facts, whatever the event.
    pub fn facts(&self) -> &Facts {
        match self {
            Notice::Succeeded(facts)
            | Notice::Failed(facts)
            | Notice::WaitingApproval(facts)
            | Notice::RolledBack(facts) => facts,
        }
    }

    /// The event's name in the generic JSON document: `succeeded`, `failed`,
    /// `waiting_approval` or `rolled_back`.
    pub fn event(&self) -> &'static str {
        match self {
            Notice::Succeeded(_) => "succeeded",
            Notice::Failed(_) => "failed",
            Notice::WaitingApproval(_) => Notice::WAITING_APPROVAL,
            Notice::RolledBack(_) => "rolled_back",
        }
    }

    /// A short title: `shop/prod: v1.2.3 deployed`.
    pub(crate) fn headline(&self) -> String {
        let facts = self.facts();
        let stage = format!("{}/{}", facts.project, facts.stage);
        let tag = &facts.tag;
        match self {
            Notice::Succeeded(_) => format!("{stage}: {tag} deployed"),
            Notice::Failed(_) => format!("{stage}: {tag} failed to deploy"),
            Notice::WaitingApproval(_) => format!("{stage}: {tag} waits for approval"),
            Notice::RolledBack(_) => format!("{stage}: rolled back to {tag}"),
        }
    }

    /// One or two sentences saying what happened.
    pub(crate) fn sentence(&self) -> String {
        let facts = self.facts();
        let target = format!("{}/{}", facts.project, facts.stage);
        let mut text = match self {
            Notice::Succeeded(_) => format!(
                "Deploy {} of {} to {target} succeeded.",
                facts.deploy_id, facts.image
            ),
            Notice::Failed(_) => format!(
                "Deploy {} of {} to {target} failed; the previous instance keeps serving.",
                facts.deploy_id, facts.image
            ),
            Notice::WaitingApproval(_) => format!(
                "Deploy {} of {} to {target} waits for approval.",
                facts.deploy_id, facts.image
            ),
            Notice::RolledBack(_) => format!(
                "Deploy {} rolled {target} back to {}.",
                facts.deploy_id, facts.image
            ),
        };
        if let Some(reason) = &facts.reason {
            text.push_str(&format!(" Reason: {reason}"));
        }
        text
    }

    /// The plain-text body: the sentence, then the digest when known.
    pub(crate) fn plain_text(&self) -> String {
        let mut text = self.sentence();
        if let Some(digest) = &self.facts().digest {
            text.push_str(&format!("\nDigest: {digest}"));
        }
        text
    }
}

/// The kinds of notification target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Webhook,
    Ntfy,
    Gotify,
    Discord,
    Slack,
}

impl Kind {
    /// The kind stored in a notification row; None for a kind this version does not know.
    pub(crate) fn parse(kind: &str) -> Option<Kind> {
        match kind {
            "webhook" => Some(Kind::Webhook),
            "ntfy" => Some(Kind::Ntfy),
            "gotify" => Some(Kind::Gotify),
            "discord" => Some(Kind::Discord),
            "slack" => Some(Kind::Slack),
            _ => None,
        }
    }
}

/// One HTTP POST to make: where, with which headers, and the body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub(crate) url: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    fn json(url: String, body: &serde_json::Value) -> Request {
        Request {
            url,
            headers: vec![("Content-Type", "application/json".to_owned())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// The request that tells a target of `kind` at `url` about `notice`.
pub(crate) fn request(kind: Kind, notice: &Notice, url: &str) -> Request {
    match kind {
        Kind::Webhook => webhook::request(notice, url),
        Kind::Ntfy => ntfy::request(notice, url),
        Kind::Gotify => gotify::request(notice, url),
        Kind::Discord => discord::request(notice, url),
        Kind::Slack => slack::request(notice, url),
    }
}

/// `at_ms` as an RFC 3339 UTC time with milliseconds: `2024-05-01T12:00:00.000Z`.
pub(crate) fn rfc3339(at_ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Facts of a deploy for the format tests.
    pub(crate) fn facts() -> Facts {
        Facts {
            deploy_id: 42,
            project: "shop".into(),
            stage: "prod".into(),
            tag: "v1.2.3".into(),
            image: "registry.example.com/acme/shop:v1.2.3".into(),
            digest: Some("sha256:abcd".into()),
            status: "succeeded".into(),
            reason: None,
            at_ms: 1_714_564_800_123,
        }
    }

    /// A failed deploy's facts.
    pub(crate) fn failed() -> Notice {
        Notice::Failed(Facts {
            status: "failed".into(),
            reason: Some("the container exited with code 3 before it became healthy".into()),
            ..facts()
        })
    }

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(rfc3339(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn headlines_and_sentences_name_the_stage_and_tag() {
        let ok = Notice::Succeeded(facts());
        assert_eq!(ok.headline(), "shop/prod: v1.2.3 deployed");
        assert_eq!(
            ok.plain_text(),
            "Deploy 42 of registry.example.com/acme/shop:v1.2.3 to shop/prod succeeded.\n\
             Digest: sha256:abcd"
        );
        let failed = failed();
        assert_eq!(failed.headline(), "shop/prod: v1.2.3 failed to deploy");
        assert!(
            failed
                .sentence()
                .ends_with("Reason: the container exited with code 3 before it became healthy"),
            "{}",
            failed.sentence()
        );
        let waiting = Notice::WaitingApproval(facts());
        assert_eq!(waiting.headline(), "shop/prod: v1.2.3 waits for approval");
        assert_eq!(waiting.event(), "waiting_approval");
        let back = Notice::RolledBack(facts());
        assert_eq!(back.headline(), "shop/prod: rolled back to v1.2.3");
        assert_eq!(back.event(), "rolled_back");
    }

    #[test]
    fn only_ended_deploys_make_a_finished_notice() {
        let deploy = Deploy {
            id: 7,
            short_id: "0a1b2c3d".into(),
            project_id: 1,
            stage_id: 2,
            tag: "v1".into(),
            image: "r/a:v1".into(),
            digest: None,
            trigger: store::Trigger::Webhook,
            status: DeployStatus::Failed,
            reason: Some("pull failed".into()),
            created_at: 1,
            started_at: Some(2),
            finished_at: Some(3),
            container_settings: None,
            decided_by: None,
            source_deploy_id: None,
        };
        let mut view = DeployView {
            deploy,
            project: "shop".into(),
            stage: "dev".into(),
        };
        let notice = Notice::finished(&view).expect("a failed deploy is news");
        assert_eq!(notice.event(), "failed");
        assert_eq!(notice.facts().reason.as_deref(), Some("pull failed"));
        assert_eq!(notice.facts().at_ms, 3);
        view.deploy.status = DeployStatus::Succeeded;
        assert_eq!(
            Notice::finished(&view).map(|n| n.event()),
            Some("succeeded")
        );
        view.deploy.status = DeployStatus::Running;
        assert_eq!(Notice::finished(&view), None);
    }

    #[test]
    fn clip_keeps_short_text_and_marks_cut_text() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
    }

    #[test]
    fn only_known_kinds_parse() {
        assert_eq!(Kind::parse("slack"), Some(Kind::Slack));
        assert_eq!(Kind::parse("email"), None);
    }
}
