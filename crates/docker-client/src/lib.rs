//! Talking to the Docker Engine API.
//!
//! This crate owns the conversation with one Docker engine: connecting and
//! agreeing on an API version, pulling, inspecting, listing and removing
//! images, managing bridge networks and the container lifecycle, and reading
//! container logs.
//! Engine answers are turned into plain types and typed errors, so no bollard
//! type leaks out.
//!
//! It owns nothing else: it keeps no store, makes no deployment decisions
//! (what to run, when to swap or roll back) and knows nothing of Nginx Proxy
//! Manager. Callers decide; this crate carries the decisions out.

mod client;
mod containers;
mod error;
mod health;
mod images;
mod logs;
mod networks;
mod pull;
mod settings;

pub use client::{DockerClient, EngineInfo};
pub use containers::{ContainerMount, ContainerSpec, ContainerState, ContainerSummary};
pub use error::DockerError;
pub use health::{ContainerHealth, HealthResult};
pub use images::{Healthcheck, ImageInfo, ImageRemoval, LocalImage};
pub use pull::{PullProgress, RegistryAuth};
pub use settings::{RestartPolicy, VolumeMount, parse_stop_signal};

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn assert_send<T: Send>(_: &T) {}

    /// The deployer runs these calls in spawned tasks, which needs `Send` futures.
    #[test]
    fn the_client_and_its_futures_can_move_between_threads() {
        fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
        assert_send_sync_clone::<DockerClient>();
        let client = DockerClient::new(Some("unix:///nonexistent.sock")).unwrap();
        let mut on_progress = |_: PullProgress| {};
        let spec = ContainerSpec::default();
        assert_send(&client.ping());
        assert_send(&client.pull("acme/web:1", None, &mut on_progress));
        assert_send(&client.inspect_image("acme/web:1"));
        assert_send(&client.list_images());
        assert_send(&client.remove_image("acme/web@sha256:abcd"));
        assert_send(&client.ensure_network("dw"));
        assert_send(&client.create_container(&spec));
        assert_send(&client.start_container("dw-web"));
        assert_send(&client.inspect_container("dw-web"));
        assert_send(&client.inspect_health("dw-web"));
        assert_send(&client.stop_container("dw-web", Duration::from_secs(1)));
        assert_send(&client.set_restart_policy("dw-web", RestartPolicy::Always));
        assert_send(&client.remove_container("dw-web"));
        assert_send(&client.container_logs_tail("dw-web", 10));
        assert_send(&client.list_containers(&[]));
    }
}
