//! `POST /api/registries`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use store::{NewRegistry, PlainSecret, SecretInput};

use crate::envelope::{ApiError, with_status};
use crate::registries::{RegistryOut, check_credentials, check_name, check_url};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
// Error messages name what is expected, not this type.
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with \"name\" and \"url\", and optionally \"username\" and \"password\""
)]
pub(crate) struct CreateBody {
    name: String,
    url: String,
    username: Option<String>,
    password: Option<String>,
}

/// Adds a registry; 201 with it (password only as `password_set`).
pub async fn create(
    state: web::Data<AppState>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    check_name(&body.name)?;
    check_url(&body.url)?;
    check_credentials(body.username.as_deref(), body.password.is_some())?;
    let new = NewRegistry {
        name: body.name,
        url: body.url,
        username: body.username,
        password: body.password.map(|value| SecretInput {
            value: PlainSecret::new(value),
            env: None,
        }),
    };
    let (store, secrets) = (state.store.clone(), state.secrets.clone());
    let name = new.name.clone();
    let registry =
        web::block(move || store.create_registry(&new, &|place, value| secrets.seal(place, value)))
            .await?
            .map_err(|error| match error {
                store::StoreError::Conflict { .. } => {
                    ApiError::Conflict(format!("a registry named {name} already exists"))
                }
                other => other.into(),
            })?;
    Ok(with_status(
        StatusCode::CREATED,
        RegistryOut::from(registry),
    ))
}
