//! The deployer as the poller's target: it opens registry credentials for the poller's clients
//! and deploys what the poller finds, exactly as if the webhook had announced it.

use poller::{Credentials, FoundTag, PollTarget};
use store::{Registry, SecretPlace, Trigger, secret_columns};

use crate::deployer::Deployer;
use crate::matching::PushOutcome;

impl PollTarget for Deployer {
    fn credentials(&self, registry: &Registry) -> Result<Option<Credentials>, String> {
        let (Some(username), Some(sealed)) = (&registry.username, &registry.password) else {
            return Ok(None);
        };
        let place = SecretPlace::new(secret_columns::REGISTRY_PASSWORD, registry.id);
        let password = self.secrets().open(place, sealed).map_err(|error| {
            format!(
                "the password of registry {} cannot be opened: {error}",
                registry.name
            )
        })?;
        Ok(Some(Credentials::new(username.clone(), password.expose())))
    }

    fn found(&self, found: &FoundTag) -> Result<String, String> {
        let outcome = self
            .image_pushed(&found.reference, Trigger::Poll)
            .map_err(|error| error.to_string())?;
        Ok(describe(&outcome))
    }
}

fn describe(outcome: &PushOutcome) -> String {
    match outcome {
        PushOutcome::Queued(deploys) => {
            let queued: Vec<String> = deploys
                .iter()
                .map(|deploy| format!("deploy {} to {}", deploy.deploy_id, deploy.stage))
                .collect();
            format!("queued {}", queued.join(", "))
        }
        PushOutcome::Ignored { reason } => format!("not deployed: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::QueuedDeploy;

    #[test]
    fn outcomes_are_described_in_words() {
        let queued = PushOutcome::Queued(vec![
            QueuedDeploy {
                deploy_id: 4,
                project: "shop".into(),
                stage: "dev".into(),
                tag: "v2".into(),
            },
            QueuedDeploy {
                deploy_id: 5,
                project: "shop".into(),
                stage: "rel".into(),
                tag: "v2".into(),
            },
        ]);
        assert_eq!(describe(&queued), "queued deploy 4 to dev, deploy 5 to rel");
        let ignored = PushOutcome::Ignored {
            reason: "no stage accepts v2".into(),
        };
        assert_eq!(describe(&ignored), "not deployed: no stage accepts v2");
    }
}
