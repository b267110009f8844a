//! The deployer as the poller's target: it opens registry credentials for the poller's clients
//! and deploys what the poller finds, exactly as if the webhook had announced it.

use poller::{Credentials, FoundTag, PollTarget};
use store::{DeployStatus, Registry, SecretPlace, Trigger, secret_columns};

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
            .image_pushed(&found.reference, Trigger::Poll, Some(&found.digest))
            .map_err(|error| error.to_string())?;
        Ok(describe(&outcome))
    }
}

fn describe(outcome: &PushOutcome) -> String {
    match outcome {
        PushOutcome::Recorded(deploys) => {
            let recorded: Vec<String> = deploys
                .iter()
                .map(|deploy| match deploy.status {
                    DeployStatus::WaitingApproval => format!(
                        "deploy {} to {} waits for approval",
                        deploy.deploy_id, deploy.stage
                    ),
                    _ => format!("queued deploy {} to {}", deploy.deploy_id, deploy.stage),
                })
                .collect();
            recorded.join(", ")
        }
        PushOutcome::Ignored { reason } => format!("not deployed: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::RecordedDeploy;

    #[test]
    fn outcomes_are_described_in_words() {
        let queued = PushOutcome::Recorded(vec![
            RecordedDeploy {
                deploy_id: 4,
                project: "shop".into(),
                stage: "dev".into(),
                tag: "v2".into(),
                status: DeployStatus::Queued,
            },
            RecordedDeploy {
                deploy_id: 5,
                project: "shop".into(),
                stage: "prod".into(),
                tag: "v2".into(),
                status: DeployStatus::WaitingApproval,
            },
        ]);
        assert_eq!(
            describe(&queued),
            "queued deploy 4 to dev, deploy 5 to prod waits for approval"
        );
        let ignored = PushOutcome::Ignored {
            reason: "no stage accepts v2".into(),
        };
        assert_eq!(describe(&ignored), "not deployed: no stage accepts v2");
    }
}
