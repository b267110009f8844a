//! Starting the registry poller: the fallback detector for registries that cannot call the
//! webhook. It polls the stages with `poll: true` every `settings.poll_interval` and hands what it
//! finds to the deployer.

use std::sync::Arc;
use std::time::Duration;

use deployer::Deployer;
use poller::{PollStatus, Poller, PollerConfig, PollerHandle};
use store::Store;

/// Starts the poller's thread; it stops when the handle is dropped. The board shows what it saw.
pub fn start(store: &Store, deployer: &Deployer) -> Result<(PollerHandle, PollStatus), String> {
    let secs = store
        .settings()
        .map_err(|error| error.to_string())?
        .poll_interval_secs;
    // A zero interval would poll without pause.
    let interval = Duration::from_secs(u64::try_from(secs).unwrap_or(0).max(1));
    log::info!("polling registries every {interval:?} for the stages that opt in");
    let poller = Poller::new(
        store.clone(),
        Arc::new(deployer.clone()),
        PollerConfig::default(),
    );
    let status = poller.status();
    Ok((poller.spawn(interval), status))
}
