//! `POST /api/registries`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use store::{NewRegistry, PlainSecret, SecretInput};

use crate::envelope::{ApiError, with_status};
use crate::registries::{RegistryOut, check_name, check_url};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
    if body.password.is_some() && body.username.is_none() {
        return Err(ApiError::BadRequest(
            "password: a password needs a username".into(),
        ));
    }
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
    let registry =
        web::block(move || store.create_registry(&new, &|place, value| secrets.seal(place, value)))
            .await??;
    Ok(with_status(
        StatusCode::CREATED,
        RegistryOut::from(registry),
    ))
}
