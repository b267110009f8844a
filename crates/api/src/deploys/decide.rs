//! `POST /api/deploys/{id}/approve` and `/reject`: a person's answer to a deploy waiting for
//! approval. Each request is decided once; a second answer is a 409 naming the deploy's state.
//! The deploy records who answered: until there are users, `api` and the client's address.

use actix_web::{HttpRequest, HttpResponse, web};
use store::Decision;

use crate::deploys::DeployOut;
use crate::envelope::{ApiError, ok};
use crate::state::AppState;

/// Approves a waiting deploy: it joins its stage's queue.
pub async fn approve(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    decide(state, &request, id.into_inner(), Decision::Approve).await
}

/// Rejects a waiting deploy: it ends without running.
pub async fn reject(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    decide(state, &request, id.into_inner(), Decision::Reject).await
}

async fn decide(
    state: web::Data<AppState>,
    request: &HttpRequest,
    id: i64,
    decision: Decision,
) -> Result<HttpResponse, ApiError> {
    let deployer = state.deployer.clone();
    let store = state.store.clone();
    let by = decider(request);
    let view = web::block(move || {
        deployer.decide(id, decision, &by)?;
        Ok::<_, deployer::DeployerError>(store.deploy_view(id)?)
    })
    .await??;
    log::info!("deploy {id}: {}", view.deploy.status);
    Ok(ok(DeployOut::from(view)))
}

/// Who is deciding: `api` and the address the request came from (the connection's peer; a
/// proxy in front shows as itself). There is no login yet to name a person.
fn decider(request: &HttpRequest) -> String {
    match request.peer_addr() {
        Some(peer) => format!("api {}", peer.ip().to_canonical()),
        None => "api".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_decider_is_the_api_and_the_clients_address() {
        let local = TestRequest::default()
            .peer_addr("127.0.0.1:51234".parse().unwrap())
            .to_http_request();
        assert_eq!(decider(&local), "api 127.0.0.1");
        let mapped = TestRequest::default()
            .peer_addr("[::ffff:192.0.2.7]:443".parse().unwrap())
            .to_http_request();
        assert_eq!(decider(&mapped), "api 192.0.2.7");
        let v6 = TestRequest::default()
            .peer_addr("[2001:db8::1]:443".parse().unwrap())
            .to_http_request();
        assert_eq!(decider(&v6), "api 2001:db8::1");
        assert_eq!(decider(&TestRequest::default().to_http_request()), "api");
    }
}
