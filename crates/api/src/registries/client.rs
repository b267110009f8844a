//! A registry client for one stored registry, with its password opened just for this use.

use poller::{ClientConfig, Credentials, RegistryClient};
use store::{Registry, SecretPlace, secret_columns};

use crate::envelope::ApiError;
use crate::state::AppState;

/// Builds the client (blocking: call it inside `web::block`).
pub(crate) fn client_for(
    state: &AppState,
    registry: &Registry,
) -> Result<RegistryClient, ApiError> {
    let credentials = match (&registry.username, &registry.password) {
        (Some(username), Some(sealed)) => {
            let place = SecretPlace::new(secret_columns::REGISTRY_PASSWORD, registry.id);
            let password = state
                .secrets
                .open(place, sealed)
                .map_err(|error| ApiError::internal("registry password", error))?;
            Some(Credentials::new(username.clone(), password.expose()))
        }
        _ => None,
    };
    RegistryClient::new(&registry.url, credentials, ClientConfig::default())
        .map_err(|error| ApiError::BadRequest(format!("registry {}: {error}", registry.name)))
}
