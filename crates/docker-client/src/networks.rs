//! User-defined bridge networks that deployed containers share.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::ListNetworksOptionsBuilder;
use tokio::sync::Mutex;

use crate::client::DockerClient;
use crate::error::{DockerError, check_identifier};

/// Serialises network creation within this process. The engine (before API
/// 1.44) happily creates two networks with the same name, after which the
/// name is ambiguous and every container create on it fails.
static CREATING: Mutex<()> = Mutex::const_new(());

impl DockerClient {
    /// Makes sure a bridge network called `name` exists; true when this call created it.
    ///
    /// Safe to call concurrently, from this process or others: if two
    /// creators race, the duplicate is removed and only one reports true.
    pub async fn ensure_network(&self, name: &str) -> Result<bool, DockerError> {
        check_identifier("network name", name)?;
        let docker = self.docker().await?;
        let _creating = CREATING.lock().await;

        if !self.networks_named(&docker, name).await?.is_empty() {
            return Ok(false);
        }
        let request = NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some("bridge".into()),
            ..Default::default()
        };
        let created = match docker.create_network(request).await {
            Ok(created) => created.id,
            // Newer engines refuse duplicates themselves.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => return Ok(false),
            Err(err) => {
                return Err(self
                    .failure(format!("creating network {name}"), None)
                    .classify(err));
            }
        };

        // Another process may have created the same name meanwhile. Everyone
        // keeps the network with the smallest id, so all racers agree.
        let mut ids = self.networks_named(&docker, name).await?;
        ids.sort();
        if ids.first().is_some_and(|winner| *winner != created) {
            log::info!("network {name} was created concurrently; removing our duplicate {created}");
            match docker.remove_network(&created).await {
                Ok(()) => {}
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => {}
                Err(err) => {
                    return Err(self
                        .failure(
                            format!("removing duplicate network {name} ({created})"),
                            None,
                        )
                        .classify(err));
                }
            }
            return Ok(false);
        }
        log::info!("created network {name}");
        Ok(true)
    }

    /// Removes a network; true if it existed. Fails while containers are attached to it.
    pub async fn remove_network(&self, name: &str) -> Result<bool, DockerError> {
        check_identifier("network name", name)?;
        let docker = self.docker().await?;
        match docker.remove_network(name).await {
            Ok(()) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(err) => Err(self
                .failure(format!("removing network {name}"), None)
                .classify(err)),
        }
    }

    /// Ids of the networks called exactly `name` (the engine's filter matches substrings).
    async fn networks_named(
        &self,
        docker: &Docker,
        name: &str,
    ) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([("name", vec![name])]);
        let options = ListNetworksOptionsBuilder::new().filters(&filters).build();
        let networks = docker.list_networks(Some(options)).await.map_err(|err| {
            self.failure(format!("listing networks named {name}"), None)
                .classify(err)
        })?;
        Ok(networks
            .into_iter()
            .filter(|network| network.name.as_deref() == Some(name))
            .filter_map(|network| network.id)
            .collect())
    }
}
