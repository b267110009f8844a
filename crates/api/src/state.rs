//! What every handler can reach.

use deployer::Deployer;
use events::Hub;
use store::Store;

/// Shared by all handlers (actix clones it per worker).
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Where deploy requests go.
    pub deployer: Deployer,
    /// Where live events come from.
    pub hub: Hub,
    /// Opens stored secrets where a handler needs one (the webhook secret).
    pub secrets: deployer::Secrets,
    /// Secrets the access log must not show.
    pub redactor: crate::Redactor,
    /// What the registry poller last saw.
    pub poll_status: poller::PollStatus,
}
