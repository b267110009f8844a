//! `GET /api/registries/{id}/tags?image=REPOSITORY[&stage=STAGE_ID]`: the image's tags, newest
//! first by the stage's rule when a stage is given (only the tags it accepts), otherwise as the
//! registry lists them. A repository the registry does not know is a 404, not an empty list.

use actix_web::{HttpResponse, web};
use poller::{ImageName, TagRule, TagSelector};
use serde::Deserialize;

use crate::envelope::{ApiError, ok};
use crate::registries::client::client_for;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TagsQuery {
    image: String,
    stage: Option<i64>,
}

/// Lists tags.
pub async fn tags(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<TagsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let query = query.into_inner();
    let tags = web::block(move || -> Result<Vec<String>, ApiError> {
        let registry = state.store.registry(id)?;
        let client = client_for(&state, &registry)?;
        // A bare repository or a full name on this registry; another host is refused.
        let name = ImageName::parse_on(client.registry(), &query.image)
            .map_err(|error| ApiError::BadRequest(format!("image: {error}")))?;
        let tags = client
            .tags_if_known(name.repository())
            .map_err(|error| ApiError::Upstream(error.to_string()))?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "registry {} has no repository {}",
                    client.registry(),
                    name.repository()
                ))
            })?;
        let Some(stage_id) = query.stage else {
            return Ok(tags);
        };
        let stage = state.store.stage(stage_id)?;
        let rule = TagRule::new(
            stage.tag_pattern.as_deref(),
            stage.tag_regex.as_deref(),
            stage.tag_semver.as_deref(),
            stage.include_prerelease,
        )
        .map_err(|error| ApiError::internal("stage tag rule", error))?;
        Ok(TagSelector::new(rule).sorted(&tags))
    })
    .await??;
    Ok(ok(tags))
}
