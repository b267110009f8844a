//! `GET /api/projects`: every project with its stages and the instances it has now.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::envelope::{ApiError, ok};
use crate::state::AppState;
use crate::time::rfc3339;

#[derive(Debug, Serialize)]
struct ProjectOut {
    id: i64,
    name: String,
    image: String,
    port: Option<i32>,
    stages: Vec<StageOut>,
    instances: Vec<InstanceOut>,
}

#[derive(Debug, Serialize)]
struct StageOut {
    id: i64,
    name: String,
    tag_pattern: Option<String>,
    tag_regex: Option<String>,
    tag_semver: Option<String>,
    include_prerelease: bool,
    auto_deploy: bool,
    max_instances: i32,
    promote_from: Option<String>,
    subdomain: Option<String>,
    watch_digest: bool,
    poll: bool,
    /// How many images of its latest healthy deploys the stage keeps.
    keep_images: i32,
}

#[derive(Debug, Serialize)]
struct InstanceOut {
    id: i64,
    stage: String,
    tag: String,
    status: &'static str,
    container_name: String,
    address: Option<String>,
    /// The domain the proxy routes to it, when routing is configured.
    domain: Option<String>,
    digest: Option<String>,
    deploy_id: i64,
    created_at: String,
}

/// Lists projects.
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let projects = web::block(move || -> store::Result<Vec<ProjectOut>> {
        let mut res = Vec::new();
        for project in store.projects()? {
            let stages = store
                .stages_of(project.id)?
                .into_iter()
                .map(|stage| StageOut {
                    id: stage.id,
                    name: stage.name,
                    tag_pattern: stage.tag_pattern,
                    tag_regex: stage.tag_regex,
                    tag_semver: stage.tag_semver,
                    include_prerelease: stage.include_prerelease,
                    auto_deploy: stage.auto_deploy,
                    max_instances: stage.max_instances,
                    promote_from: stage.promote_from,
                    subdomain: stage.subdomain,
                    watch_digest: stage.watch_digest,
                    poll: stage.poll,
                    keep_images: stage.keep_images,
                })
                .collect();
            let instances = store
                .live_instances_of_project(project.id)?
                .into_iter()
                .map(|view| InstanceOut {
                    id: view.instance.id,
                    stage: view.stage,
                    tag: view.instance.tag,
                    status: view.instance.status.as_str(),
                    container_name: view.instance.container_name,
                    address: view.instance.address,
                    domain: view.instance.domain,
                    digest: view.instance.digest,
                    deploy_id: view.instance.deploy_id,
                    created_at: rfc3339(view.instance.created_at),
                })
                .collect();
            res.push(ProjectOut {
                id: project.id,
                name: project.name,
                image: project.image,
                port: project.port,
                stages,
                instances,
            });
        }
        Ok(res)
    })
    .await??;
    Ok(ok(projects))
}
