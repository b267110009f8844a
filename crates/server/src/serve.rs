//! `docker-watcher serve`: open the data folder, seed it on first start, build the parts (the
//! deployer, then the registry poller), run the HTTP server, and let running deploys finish on
//! shutdown.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, middleware, web};
use deployer::{Deployer, DeployerConfig, NpmRouter};
use docker_client::DockerClient;
use events::{Hub, HubConfig};

use crate::cli::ServeArgs;
use crate::data::{self, Data};
use crate::seed;

/// How long shutdown waits for running deploys.
const DEPLOY_DRAIN: Duration = Duration::from_secs(60);
/// How often idle extra instances are looked for.
const EXPIRY_INTERVAL: Duration = Duration::from_secs(60);
/// How long a stop waits for notifications still being sent.
const NOTIFY_DRAIN: Duration = Duration::from_secs(10);

/// Runs the server until it is told to stop.
pub fn serve(args: ServeArgs) -> Result<(), String> {
    if let Some(dir) = &args.ui_dir {
        crate::ui::check_dir(dir)?;
    }
    // A first start reads its seed before anything is written, so a missing or broken file
    // leaves no data folder (and no key) behind.
    let seed = if data::is_new(&args.data_dir) {
        Some(seed::read(args.config.as_deref())?)
    } else {
        None
    };
    // Held until the server has stopped: a second server or a key rotation on this folder is
    // refused instead of racing this one.
    let data = data::open(&args.data_dir, data::Use::Create)?;
    seed::import_if_empty(&data, args.config.as_deref(), seed)?;
    data.check_key()?;
    // Taken before the engine is touched, so a server that cannot listen changes nothing.
    let listener = std::net::TcpListener::bind(args.listen)
        .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
    let Data {
        store,
        secrets,
        lock: _lock,
        ..
    } = data;
    let settings = store.settings().map_err(|error| error.to_string())?;
    let webhook_secret = secrets
        .webhook_secret(&settings)
        .map_err(|error| error.to_string())?;

    let docker =
        DockerClient::new(args.docker_host.as_deref()).map_err(|error| error.to_string())?;
    let hub = Hub::new(HubConfig::default());
    let deployer = Deployer::new(
        store.clone(),
        hub.clone(),
        docker,
        secrets.clone(),
        DeployerConfig::default(),
    )
    .map_err(|error| error.to_string())?;
    match NpmRouter::from_settings(&settings, &secrets)? {
        Some(router) => {
            log::info!(
                "routing each stage's domain through Nginx Proxy Manager at {}",
                router.npm()
            );
            deployer.set_router(Some(Arc::new(router)));
        }
        None => log::info!(
            "no Nginx Proxy Manager configured: instances are reached at their container address"
        ),
    }
    // With the router set, so the routes are checked too.
    match deployer.reconcile() {
        Ok(done) if done.interrupted > 0 => log::warn!(
            "{} deploy(s) were interrupted by the last shutdown",
            done.interrupted
        ),
        Ok(_) => {}
        Err(error) => log::error!("cannot clean up after the last run: {error}"),
    }
    let (poller, poll_status) = crate::poll::start(&store, &deployer)?;
    let expiry = deployer.spawn_expiry(EXPIRY_INTERVAL);

    let state = api::AppState {
        store: store.clone(),
        deployer: deployer.clone(),
        hub,
        secrets,
        redactor: api::Redactor::new([webhook_secret.expose().to_string()]),
        poll_status,
    };
    actix_web::rt::System::new()
        .block_on(run_http(state, listener, args.ui_dir))
        .map_err(|error| format!("the HTTP server failed on {}: {error}", args.listen))?;
    // No new finds (and no removals) while running deploys drain.
    drop(poller);
    drop(expiry);

    log::info!("waiting for running deploys to finish");
    if !deployer.wait_idle(DEPLOY_DRAIN) {
        log::warn!(
            "stopping with deploys still running; they will be marked interrupted at the next start"
        );
    }
    if !deployer.notifier().wait_idle(NOTIFY_DRAIN) {
        log::warn!("stopping with notifications still unsent");
    }
    if let Err(error) = store.checkpoint() {
        log::warn!("{error}");
    }
    Ok(())
}

async fn run_http(
    state: api::AppState,
    listener: std::net::TcpListener,
    ui_dir: Option<PathBuf>,
) -> std::io::Result<()> {
    let listen = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let ui_dir = ui_dir.clone();
        let redactor = state.redactor.clone();
        App::new()
            .app_data(web::Data::new(state.clone()))
            .wrap(
                // The webhook's path holds its secret: the access log gets a masked request line.
                middleware::Logger::new("%{request}xi %s %b %Dms")
                    .custom_request_replace("request", move |request| {
                        redactor.request_line(request)
                    }),
            )
            .configure(api::configure)
            .configure(|config| crate::ui::configure(config, ui_dir))
    })
    // SSE streams would otherwise hold shutdown for the default 30 s.
    .shutdown_timeout(3)
    .listen(listener)?;
    log::info!("listening on http://{listen}");
    server.run().await
}
