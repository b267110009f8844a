//! `PUT /api/registries/{id}`: fields left out keep their value; `"password": null` removes the
//! password, a string replaces it, and no `password` field keeps it.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use store::{PlainSecret, RegistryChanges, SecretChange};

use crate::envelope::{ApiError, ok};
use crate::registries::{RegistryOut, check_credentials, check_name, check_url, present};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
// Error messages name what is expected, not this type.
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with any of \"name\", \"url\", \"username\", \"password\""
)]
pub(crate) struct UpdateBody {
    name: Option<String>,
    url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    username: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    password: Option<Option<String>>,
}

/// Changes a registry.
pub async fn update(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    if let Some(url) = &body.url {
        check_url(url)?;
    }
    let changes = RegistryChanges {
        name: body.name,
        url: body.url,
        username: body.username,
        password: match body.password {
            None => SecretChange::Keep,
            Some(None) => SecretChange::Clear,
            Some(Some(value)) => SecretChange::Set(PlainSecret::new(value)),
        },
    };
    let id = id.into_inner();
    // The registry as it will be: a username and a password together, or neither.
    let store = state.store.clone();
    let current = web::block(move || store.registry(id)).await??;
    let username = match &changes.username {
        Some(username) => username.as_deref(),
        None => current.username.as_deref(),
    };
    let has_password = match changes.password {
        SecretChange::Keep => current.password.is_some(),
        SecretChange::Clear => false,
        SecretChange::Set(_) => true,
    };
    check_credentials(username, has_password)?;
    let (store, secrets) = (state.store.clone(), state.secrets.clone());
    let registry = web::block(move || {
        store.update_registry(id, &changes, &|place, value| secrets.seal(place, value))
    })
    .await?
    .map_err(|error| match error {
        store::StoreError::Conflict { .. } => {
            ApiError::Conflict("another registry already has that name".into())
        }
        other => other.into(),
    })?;
    Ok(ok(RegistryOut::from(registry)))
}
