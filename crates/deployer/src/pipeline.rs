//! One deploy, step by step: pull, create, start, health-check, then replace what ran before.
//! On any failure the container this deploy made is removed and whatever ran before keeps running.

use std::collections::BTreeMap;
use std::time::Instant;

use docker_client::{
    ContainerHealth, ContainerSpec, DockerClient, DockerError, PullProgress, RegistryAuth,
};
use poller::{ImageName, ImageReference};
use store::{
    DeployStatus, DeployView, InstanceStatus, NewInstance, Project, SecretPlace, Settings, Trigger,
    secret_columns,
};

use crate::container_settings::{self, Given};
use crate::deployer::Context;
use crate::error::Failure;
use crate::health::{
    self, Counted, DockerVerdict, FailureTally, HealthCheck, HealthKind, Probe, Schedule, Throttle,
};
use crate::journal::Journal;
use crate::lineup;
use crate::naming::{self, labels};
use crate::retention;
use crate::routing::Route;
use crate::subdomain;

/// How many of a failed container's last log lines go into the deploy log.
const FAILED_CONTAINER_LOG_LINES: usize = 20;

/// Carries out deploy `deploy_id` to its end; never panics on bad input, always leaves the deploy finished.
pub(crate) fn run(ctx: &Context, deploy_id: i64) {
    let view = match ctx.store.deploy_view(deploy_id) {
        Ok(view) => view,
        Err(error) => {
            log::error!("deploy {deploy_id} cannot be read, so it cannot run: {error}");
            return;
        }
    };
    let journal = Journal::new(ctx.store.clone(), ctx.hub.clone(), &view);
    if let Err(error) = ctx.store.start_deploy(deploy_id) {
        log::error!("deploy {deploy_id} cannot be started: {error}");
        return;
    }
    journal.status(DeployStatus::Running, None);
    journal.line(format!(
        "deploying {} to {}/{} (deploy {deploy_id}, container suffix {})",
        view.deploy.image, view.project, view.stage, view.deploy.short_id
    ));
    let started = Instant::now();
    let mut run = Run {
        ctx,
        view: &view,
        journal: &journal,
        container: None,
        instance_id: None,
    };
    let outcome = run.steps();
    journal.end_step(outcome.is_ok());
    let (status, reason) = match outcome {
        Ok(Done::Deployed) => {
            journal.line(format!(
                "deploy succeeded in {:.1}s",
                started.elapsed().as_secs_f64()
            ));
            (DeployStatus::Succeeded, None)
        }
        Ok(Done::AlreadyRunning(why)) => {
            journal.line(format!("nothing to do: {why}"));
            (DeployStatus::Skipped, Some(why))
        }
        Err(Failure(reason)) => {
            journal.line(format!("deploy failed: {reason}"));
            run.clean_up();
            (DeployStatus::Failed, Some(reason))
        }
    };
    if let Err(error) = ctx
        .store
        .finish_deploy(deploy_id, status, reason.as_deref())
    {
        log::error!("deploy {deploy_id}: cannot record its outcome: {error}");
    }
    journal.status(status, reason.as_deref());
    ctx.notifier.deploy_finished(deploy_id);
}

/// How a deploy that did not fail ended.
enum Done {
    /// A new instance serves.
    Deployed,
    /// The stage already runs this tag and digest; why, in words.
    AlreadyRunning(String),
}

/// The state of one deploy in progress: what it has made so far, so a failure can undo it.
struct Run<'a> {
    ctx: &'a Context,
    view: &'a DeployView,
    journal: &'a Journal,
    /// The container this deploy created (id), once created.
    container: Option<String>,
    /// The instance row this deploy created, once created.
    instance_id: Option<i64>,
}

impl Run<'_> {
    fn docker(&self) -> &DockerClient {
        &self.ctx.docker
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.ctx.runtime.block_on(future)
    }

    fn steps(&mut self) -> Result<Done, Failure> {
        let project = self.ctx.store.project(self.view.deploy.project_id)?;
        let settings = self.ctx.store.settings()?;
        let reference = ImageReference::parse(&self.view.deploy.image)
            .map_err(|error| Failure::new(format!("the deploy's image is not usable: {error}")))?;

        let engine = self
            .block_on(self.docker().ping())
            .map_err(|error| Failure::new(error.to_string()))?;
        self.journal.line(format!(
            "Docker engine {} (API {})",
            engine.engine_version, engine.api_version
        ));

        self.journal.step("pull");
        let auth = self.registry_auth(&project, &reference)?;
        let image = self.pull(&reference, auth.as_ref())?;
        if let Some(why) = self.already_running(image.digest.as_deref())? {
            return Ok(Done::AlreadyRunning(why));
        }
        let port = self.container_port(&project, &image)?;
        self.journal.step("create");
        self.create_and_start(&project, &settings, &image, port)?;
        self.journal.step("health");
        let address = self.wait_until_healthy(&project, &settings, port)?;
        self.journal.step("restart_policy");
        self.apply_restart_policy()?;
        self.journal.step("route");
        let domain = self.route(&settings, port)?;
        self.promote(&address, domain.as_deref())?;
        // The new instance serves from here on: a failure to tidy up does not fail the deploy.
        let leaving = self.instances_leaving().unwrap_or_else(|Failure(reason)| {
            self.journal
                .line(format!("cannot tell which instances to replace: {reason}"));
            Vec::new()
        });
        if domain.is_some() && !leaving.is_empty() {
            self.journal.step("drain");
            self.drain_previous_instances();
        }
        self.journal.step("replace");
        self.replace_previous_instances(leaving, domain.as_deref());
        self.journal.step("prune");
        retention::prune(self.ctx, self.journal, &self.view.deploy);
        Ok(Done::Deployed)
    }

    /// Gives the stage's old instances time to finish the requests the proxy sent them before
    /// the switch; new requests already go to the new instance.
    fn drain_previous_instances(&self) {
        let drain = self.ctx.config.drain;
        if !drain.is_zero() {
            self.journal.line(format!(
                "letting the previous instance finish its requests for {:.1}s",
                drain.as_secs_f64()
            ));
            std::thread::sleep(drain);
        }
    }

    /// Why this deploy has nothing to do: a running instance of the stage already runs this tag
    /// with this digest (a webhook sent twice, a webhook and the poller for one push). Without a
    /// digest nothing can be compared, so the deploy goes ahead.
    fn already_running(&self, digest: Option<&str>) -> Result<Option<String>, Failure> {
        let Some(digest) = digest else {
            return Ok(None);
        };
        let deploy = &self.view.deploy;
        let running = self
            .ctx
            .store
            .live_instances_of_stage(deploy.stage_id)?
            .into_iter()
            .find(|instance| {
                instance.status == InstanceStatus::Running
                    && instance.tag == deploy.tag
                    && instance.digest.as_deref() == Some(digest)
            });
        Ok(running.map(|instance| {
            format!(
                "{} already runs {} with digest {digest}",
                instance.container_name, deploy.tag
            )
        }))
    }

    /// Pulls the image and returns the reference to create the container from (by digest when known).
    /// The credentials of the project's registry, opened for this pull only.
    fn registry_auth(
        &self,
        project: &Project,
        reference: &ImageReference,
    ) -> Result<Option<RegistryAuth>, Failure> {
        let Some(registry_id) = project.registry_id else {
            return Ok(None);
        };
        let registry = self.ctx.store.registry(registry_id)?;
        let (Some(username), Some(sealed)) = (registry.username, registry.password) else {
            return Ok(None);
        };
        let place = SecretPlace::new(secret_columns::REGISTRY_PASSWORD, registry.id);
        let password = self.ctx.secrets.open(place, &sealed).map_err(|error| {
            Failure::new(format!(
                "the password of registry {} cannot be opened: {error}",
                registry.name
            ))
        })?;
        self.journal.line(format!(
            "pulling as {username} (registry {})",
            registry.name
        ));
        Ok(Some(RegistryAuth {
            username,
            password: password.expose().to_string(),
            server: reference.registry().to_string(),
        }))
    }

    fn pull(
        &mut self,
        reference: &ImageReference,
        auth: Option<&RegistryAuth>,
    ) -> Result<PulledImage, Failure> {
        let image = reference.to_string();
        self.journal.line(format!("pulling {image}"));
        let journal = self.journal;
        let mut relay =
            |progress: PullProgress| journal.line(format!("pull: {}", progress.message));
        self.block_on(self.docker().pull(&image, auth, &mut relay))
            .map_err(|error| match error {
                // Already says which image failed to pull and why.
                DockerError::PullFailed { .. } => Failure::new(error.to_string()),
                other => Failure::new(format!("pulling {image} failed: {other}")),
            })?;
        let info = self
            .block_on(self.docker().inspect_image(&image))
            .map_err(|error| {
                Failure::new(format!(
                    "the pulled image {image} cannot be inspected: {error}"
                ))
            })?;
        let digest = repo_digest(reference.name(), &info.repo_digests);
        let run_from = match &digest {
            Some(digest) => {
                self.ctx
                    .store
                    .set_deploy_digest(self.view.deploy.id, digest)?;
                self.journal.line(format!("image digest {digest}"));
                format!("{}@{digest}", reference.name())
            }
            None => image,
        };
        Ok(PulledImage {
            run_from,
            digest,
            exposed_ports: info.exposed_ports,
        })
    }

    fn container_port(&self, project: &Project, image: &PulledImage) -> Result<u16, Failure> {
        if let Some(port) = project.port {
            return u16::try_from(port).map_err(|_| {
                Failure::new(format!(
                    "project {}: port {port} is out of range",
                    project.name
                ))
            });
        }
        image.exposed_ports.first().copied().ok_or_else(|| {
            Failure::new(format!(
                "project {} sets no port and the image exposes none: set `port` in the project",
                project.name
            ))
        })
    }

    fn create_and_start(
        &mut self,
        project: &Project,
        settings: &Settings,
        image: &PulledImage,
        port: u16,
    ) -> Result<(), Failure> {
        let deploy = &self.view.deploy;
        let name = naming::container_name(
            &self.view.project,
            &self.view.stage,
            &deploy.tag,
            &deploy.short_id,
        );
        let instance = self.ctx.store.create_instance(&NewInstance {
            project_id: deploy.project_id,
            stage_id: deploy.stage_id,
            deploy_id: deploy.id,
            tag: deploy.tag.clone(),
            digest: image.digest.clone(),
            container_name: name.clone(),
        })?;
        self.instance_id = Some(instance.id);

        let created = self
            .block_on(self.docker().ensure_network(&settings.network))
            .map_err(|error| {
                Failure::new(format!(
                    "the network {} cannot be made ready: {error}",
                    settings.network
                ))
            })?;
        if created {
            self.journal
                .line(format!("created network {}", settings.network));
        }

        let mut container_labels = BTreeMap::new();
        container_labels.insert(labels::PROJECT.to_string(), self.view.project.clone());
        container_labels.insert(labels::STAGE.to_string(), self.view.stage.clone());
        container_labels.insert(labels::INSTANCE.to_string(), instance.id.to_string());
        container_labels.insert(labels::DEPLOY.to_string(), deploy.id.to_string());
        let opened = self.container_env(project)?;
        let stage = self.ctx.store.stage(deploy.stage_id)?;
        let (plan, env) = match self.replayed_settings() {
            // A rollback gives the container what the deploy it goes back to gave its own.
            Some(recorded) => container_settings::replay(&recorded, &opened)?,
            None => {
                let given = Given {
                    image: &image.run_from,
                    port,
                    network: &settings.network,
                    env: &opened,
                };
                (container_settings::plan(project, &stage, &given)?, opened)
            }
        };
        self.ctx
            .store
            .record_container_settings(deploy.id, &plan.record)?;
        self.journal.line(container_settings::summary(&plan.record));
        let spec = ContainerSpec {
            name: name.clone(),
            image: image.run_from.clone(),
            labels: container_labels,
            env,
            network: Some(settings.network.clone()),
            exposed_port: Some(port),
            publish_port: RouteTarget::of(settings) == RouteTarget::PublishedPort,
            cmd: None,
            volumes: plan.volumes,
            memory_bytes: plan.memory_bytes,
            nano_cpus: plan.nano_cpus,
            // Given once the container is healthy (`apply_restart_policy`): until then an exit
            // fails the deploy instead of starting a restart loop.
            restart: None,
            stop_signal: plan.stop_signal,
            stop_timeout: Some(plan.stop_timeout),
        };
        let id = self
            .block_on(self.docker().create_container(&spec))
            .map_err(|error| Failure::new(format!("creating container {name} failed: {error}")))?;
        self.container = Some(id.clone());
        self.ctx.store.attach_container(instance.id, &id)?;
        self.journal.line(format!(
            "created container {name} on network {}",
            settings.network
        ));
        self.journal.step("start");
        self.block_on(self.docker().start_container(&id))
            .map_err(|error| Failure::new(format!("starting container {name} failed: {error}")))?;
        self.journal.line(format!("started container {name}"));
        Ok(())
    }

    /// The settings a rollback deploy was created with (copied from the deploy it goes back to).
    fn replayed_settings(&self) -> Option<store::ContainerSettings> {
        let deploy = &self.view.deploy;
        if deploy.trigger != Trigger::Rollback {
            return None;
        }
        deploy.recorded_settings()
    }

    /// Gives the healthy container the restart policy its deploy recorded.
    fn apply_restart_policy(&self) -> Result<(), Failure> {
        let recorded = self
            .ctx
            .store
            .deploy(self.view.deploy.id)?
            .recorded_settings();
        let Some(recorded) = recorded else {
            return Err(Failure::new(
                "the deploy's container settings were not recorded",
            ));
        };
        let policy = docker_client::RestartPolicy::parse(&recorded.restart)
            .map_err(|error| Failure::new(format!("the recorded restart policy: {error}")))?;
        if policy == docker_client::RestartPolicy::No {
            return Ok(());
        }
        let container = self.container.clone().unwrap_or_default();
        self.block_on(self.docker().set_restart_policy(&container, policy))
            .map_err(|error| {
                Failure::new(format!(
                    "setting the restart policy {policy} failed: {error}"
                ))
            })?;
        self.journal.line(format!("restart policy: {policy}"));
        Ok(())
    }

    /// Plain variables, then the secret ones, opened just for the container's creation.
    fn container_env(&self, project: &Project) -> Result<Vec<(String, String)>, Failure> {
        let mut env: Vec<(String, String)> = project.env_vars().into_iter().collect();
        for variable in self.ctx.store.secret_env_of(project.id)? {
            let place = SecretPlace::new(secret_columns::SECRET_ENV_VALUE, variable.id);
            let value = self
                .ctx
                .secrets
                .open(place, &variable.value)
                .map_err(|error| {
                    Failure::new(format!(
                        "the secret variable {} cannot be opened: {error}",
                        variable.name
                    ))
                })?;
            env.push((variable.name, value.expose().to_string()));
        }
        Ok(env)
    }

    /// Waits until the new container passes its health check (see [`crate::health`]): HTTP probes,
    /// or the container's own HEALTHCHECK. Fails at once when the container exits. Returns the
    /// instance's address.
    fn wait_until_healthy(
        &self,
        project: &Project,
        settings: &Settings,
        port: u16,
    ) -> Result<String, Failure> {
        let check = HealthCheck::of(project);
        let container = self.container.clone().unwrap_or_default();
        let health = self.inspect_health(&container)?;
        // A container that already exited has lost its address: report the exit, not the address.
        if health.has_exited() {
            return Err(self.exited(&container, &health));
        }
        let ip = health
            .state
            .ip_addresses
            .get(&settings.network)
            .cloned()
            .ok_or_else(|| {
                Failure::new(format!(
                    "the container has no address on the network {}",
                    settings.network
                ))
            })?;
        let address = format!("http://{ip}:{port}");
        match check.kind {
            HealthKind::Http => self.wait_for_http(&container, &address, &check)?,
            HealthKind::Docker => self.wait_for_docker(&container, &check)?,
        }
        Ok(address)
    }

    /// Probes `GET address+path` on the [`Schedule`] until it answers an accepted status; gives up
    /// when it exits or when `retries` failures have been counted after the start period.
    fn wait_for_http(
        &self,
        container: &str,
        address: &str,
        check: &HealthCheck,
    ) -> Result<(), Failure> {
        let url = format!("{address}{}", check.path);
        self.journal.line(format!(
            "health check: GET {url} until it answers {}, probing at least every {}ms, up to {} failures after a {}ms start period",
            check.accepted,
            check.interval.as_millis(),
            check.retries,
            check.start_period.as_millis()
        ));
        let schedule = Schedule::new(check.interval, check.start_period);
        let mut tally = FailureTally::new(check);
        let mut throttle = Throttle::new(check.interval);
        let started = Instant::now();
        let mut wait = None;
        loop {
            let probe = health::probe(&url, check.timeout, &check.accepted);
            let elapsed = started.elapsed();
            if let Probe::Healthy(status) = probe {
                self.journal.line(format!(
                    "health check passed: HTTP {status} after {}ms",
                    elapsed.as_millis()
                ));
                return Ok(());
            }
            let health = self.inspect_health(container)?;
            if health.has_exited() {
                return Err(self.exited(container, &health));
            }
            let counted = tally.record(elapsed);
            // Counted failures are always written; the fast probes in between only when they
            // answer something new, or once per interval.
            let new = throttle.admit(elapsed, &probe.to_string());
            match counted {
                Counted::Failure { number, retries } => self.journal.line(format!(
                    "health check: {probe} (failure {number} of {retries})"
                )),
                Counted::StartPeriod if new => self
                    .journal
                    .line(format!("health check: {probe} (start period)")),
                Counted::Between if new => self.journal.line(format!("health check: {probe}")),
                Counted::StartPeriod | Counted::Between => {}
            }
            if let Counted::Failure { number, .. } = counted
                && counted.exhausted()
            {
                return Err(Failure::new(format!(
                    "the container did not become healthy: GET {} failed {number} times, last with {probe} (accepted: {})",
                    check.path, check.accepted
                )));
            }
            let next = schedule.next_delay(wait, started.elapsed());
            wait = Some(next);
            std::thread::sleep(next);
        }
    }

    /// Follows the container's own HEALTHCHECK until the engine reports it healthy or unhealthy,
    /// up to [`health::docker_deadline`]; a container without one passes once it has run for
    /// [`health::docker_grace`]. Fails at once when the container exits.
    fn wait_for_docker(&self, container: &str, check: &HealthCheck) -> Result<(), Failure> {
        let started = Instant::now();
        let mut health = self.inspect_health(container)?;
        let grace = health::docker_grace(check.start_period);
        let deadline = health
            .healthcheck
            .as_ref()
            .map_or(health::MAX_DOCKER_WAIT, health::docker_deadline);
        match (&health.healthcheck, health.status()) {
            (Some(own), Some(_)) => self.journal.line(format!(
                "health check: the container's HEALTHCHECK ({}), waiting up to {}s for it to report healthy",
                own.test.iter().skip(1).cloned().collect::<Vec<_>>().join(" "),
                deadline.as_secs()
            )),
            _ => self.journal.line(format!(
                "health check: the container reports no health status (its image has no HEALTHCHECK): healthy once it has run for {}ms",
                grace.as_millis()
            )),
        }
        let schedule = Schedule::new(check.interval, check.start_period);
        let mut wait = None;
        let mut last_status: Option<String> = None;
        loop {
            if health.has_exited() {
                return Err(self.exited(container, &health));
            }
            let elapsed = started.elapsed();
            if let Some(status) = health.status()
                && last_status.as_deref() != Some(status)
            {
                self.journal
                    .line(format!("health check: the HEALTHCHECK reports {status}"));
                last_status = Some(status.to_string());
            }
            match health::docker_verdict(health.status(), elapsed, deadline, grace) {
                DockerVerdict::Healthy => {
                    self.journal.line(format!(
                        "health check passed: healthy after {}ms",
                        elapsed.as_millis()
                    ));
                    return Ok(());
                }
                DockerVerdict::GraceOver => {
                    self.journal.line(format!(
                        "health check passed: still running after {}ms",
                        elapsed.as_millis()
                    ));
                    return Ok(());
                }
                DockerVerdict::Unhealthy => return Err(self.unhealthy(&health, "unhealthy")),
                DockerVerdict::TimedOut => {
                    return Err(self.unhealthy(
                        &health,
                        &format!("still starting after {}s", deadline.as_secs()),
                    ));
                }
                DockerVerdict::Waiting => {}
            }
            let next = schedule.next_delay(wait, elapsed);
            wait = Some(next);
            std::thread::sleep(next);
            health = self.inspect_health(container)?;
        }
    }

    fn inspect_health(&self, container: &str) -> Result<ContainerHealth, Failure> {
        self.block_on(self.docker().inspect_health(container))
            .map_err(|error| Failure::new(format!("the container cannot be inspected: {error}")))
    }

    /// A failure for a HEALTHCHECK that did not pass (`verdict` says how), quoting what its last
    /// run printed; every result the engine kept goes into the deploy log.
    fn unhealthy(&self, health: &ContainerHealth, verdict: &str) -> Failure {
        for result in &health.log {
            let code = result
                .exit_code
                .map_or_else(|| "?".to_string(), |code| code.to_string());
            self.journal.line(format!(
                "healthcheck: exit code {code}: {}",
                health::one_line(&result.output)
            ));
        }
        let reason = format!("the container's HEALTHCHECK reports {verdict}");
        match health.last_result() {
            Some(last) if !last.output.is_empty() => {
                Failure::new(format!("{reason}: {}", health::one_line(&last.output)))
            }
            Some(last) => Failure::new(format!(
                "{reason} (its last run exited with code {} and printed nothing)",
                last.exit_code
                    .map_or_else(|| "?".to_string(), |code| code.to_string())
            )),
            None => Failure::new(reason),
        }
    }

    fn inspect(&self, container: &str) -> Result<docker_client::ContainerState, Failure> {
        self.block_on(self.docker().inspect_container(container))
            .map_err(|error| Failure::new(format!("the container cannot be inspected: {error}")))
    }

    /// A failure for a container that stopped on its own, with its last words in the deploy log.
    /// A restart policy does not hide the exit: a container the engine restarts failed all the same.
    fn exited(&self, container: &str, health: &ContainerHealth) -> Failure {
        if let Ok(lines) = self.block_on(
            self.docker()
                .container_logs_tail(container, FAILED_CONTAINER_LOG_LINES),
        ) {
            for line in lines {
                self.journal.line(format!("container: {line}"));
            }
        }
        let restarted = match health.restart_count {
            0 => String::new(),
            1 => " (its restart policy restarted it once)".to_string(),
            count => format!(" (its restart policy restarted it {count} times)"),
        };
        match health.exit_code.or(health.state.exit_code) {
            Some(code) => Failure::new(format!(
                "the container exited with code {code} before it became healthy{restarted}"
            )),
            None => Failure::new(format!(
                "the container stopped before it became healthy{restarted}"
            )),
        }
    }

    /// Points the stage's domain at the new container, when a proxy is configured; returns the
    /// domain. Until this succeeds the proxy still sends the stage's traffic to the old instance.
    fn route(&self, settings: &Settings, port: u16) -> Result<Option<String>, Failure> {
        let Some(router) = self.ctx.router() else {
            return Ok(None);
        };
        let stage = self.ctx.store.stage(self.view.deploy.stage_id)?;
        let main = subdomain::stage_domain(
            &settings.subdomain_pattern,
            &settings.domain,
            &self.view.project,
            &self.view.stage,
            stage.subdomain.as_deref(),
        );
        // A stage that runs several tags side by side gives each its own domain; its main
        // domain follows the newest.
        let domain = if stage.max_instances > 1 {
            subdomain::tag_domain(
                &settings.subdomain_pattern,
                &settings.domain,
                &self.view.project,
                &self.view.stage,
                &self.view.deploy.tag,
            )
        } else {
            main.clone()
        };
        let container = self.container.clone().unwrap_or_default();
        let state = self.inspect(&container)?;
        let (forward_host, forward_port) = match RouteTarget::of(settings) {
            RouteTarget::ContainerName => (state.name.clone(), port),
            RouteTarget::ContainerIp => {
                let ip = state.ip_addresses.get(&settings.network).ok_or_else(|| {
                    Failure::new(format!(
                        "the container has no address on the network {}",
                        settings.network
                    ))
                })?;
                (ip.clone(), port)
            }
            RouteTarget::PublishedPort => {
                let published = state.published_ports.get(&port).ok_or_else(|| {
                    Failure::new(format!("the container's port {port} was not published"))
                })?;
                ("127.0.0.1".to_string(), *published)
            }
        };
        let route = Route {
            domain: domain.clone(),
            forward_host,
            forward_port,
            owner: format!("{}/{}", self.view.project, self.view.stage),
        };
        self.journal.line(format!(
            "routing {} to {}:{}",
            route.domain, route.forward_host, route.forward_port
        ));
        let said = router
            .point(&route)
            .map_err(|error| Failure::new(format!("routing failed: {error}")))?;
        self.journal.line(format!("routed: {said}"));
        if main != domain {
            let route = Route {
                domain: main.clone(),
                ..route
            };
            self.journal
                .line(format!("routing {main} to the newest instance too"));
            let said = router
                .point(&route)
                .map_err(|error| Failure::new(format!("routing failed: {error}")))?;
            self.journal.line(format!("routed: {said}"));
        }
        Ok(Some(domain))
    }

    fn promote(&mut self, address: &str, domain: Option<&str>) -> Result<(), Failure> {
        let Some(instance_id) = self.instance_id else {
            return Err(Failure::new("no instance was recorded"));
        };
        if let Some(domain) = domain {
            self.ctx.store.set_instance_domain(instance_id, domain)?;
        }
        let instance = self.ctx.store.mark_instance_running(instance_id, address)?;
        self.journal.instance(&instance);
        self.journal.line(format!(
            "instance {} is running at {address}",
            instance.container_name
        ));
        // From here on the new instance is kept, whatever happens to the old ones.
        self.container = None;
        self.instance_id = None;
        Ok(())
    }

    /// Stops and removes the stage's other instances now that the new one serves.
    /// The stage's instances that go now that the new one serves: all others in a one-instance
    /// stage; the same tag's and the oldest beyond `max_instances` otherwise (see [`lineup`]).
    fn instances_leaving(&self) -> Result<Vec<store::Instance>, Failure> {
        let stage = self.ctx.store.stage(self.view.deploy.stage_id)?;
        let live = self.ctx.store.live_instances_of_stage(stage.id)?;
        let (_, leaving) = lineup::split(stage.max_instances, live);
        Ok(leaving
            .into_iter()
            .filter(|old| old.deploy_id != self.view.deploy.id)
            .collect())
    }

    fn replace_previous_instances(&self, leaving: Vec<store::Instance>, new_domain: Option<&str>) {
        let router = self.ctx.router();
        for old in leaving {
            // A tag's own domain goes with it; a shared domain already points at the new one.
            if let (Some(router), Some(domain)) = (&router, old.domain.as_deref())
                && Some(domain) != new_domain
            {
                match router.remove(domain) {
                    Ok(said) => self.journal.line(said),
                    Err(error) => self
                        .journal
                        .line(format!("removing the route of {domain} failed: {error}")),
                }
            }
            // Its own deploy's stop timeout: the app it runs may need longer (or less) than ours.
            let stop_timeout = container_settings::stop_timeout_of(
                &self.ctx.store,
                &old,
                self.ctx.config.stop_timeout,
            );
            // Stopping can take the whole timeout (an app that ignores SIGTERM); say so up front.
            self.journal.line(format!(
                "stopping {} (tag {}), allowing it {}s to exit",
                old.container_name,
                old.tag,
                stop_timeout.as_secs()
            ));
            let stopped = self.block_on(
                self.docker()
                    .stop_container(&old.container_id, stop_timeout),
            );
            if let Err(error) = stopped {
                self.journal
                    .line(format!("stopping {} failed: {error}", old.container_name));
            }
            match self.block_on(self.docker().remove_container(&old.container_id)) {
                Ok(_) => {
                    self.journal
                        .line(format!("replaced {} (tag {})", old.container_name, old.tag));
                    self.set_instance_status(old, InstanceStatus::Removed);
                }
                Err(error) => self
                    .journal
                    .line(format!("removing {} failed: {error}", old.container_name)),
            }
        }
    }

    fn set_instance_status(&self, mut instance: store::Instance, status: InstanceStatus) {
        match self.ctx.store.set_instance_status(instance.id, status) {
            Ok(()) => {
                instance.status = status;
                self.journal.instance(&instance);
            }
            Err(error) => log::error!(
                "instance {}: cannot record status {status}: {error}",
                instance.id
            ),
        }
    }

    /// Undoes what a failed deploy made: its container and its instance row.
    fn clean_up(&mut self) {
        if let Some(container) = self.container.take() {
            match self.block_on(self.docker().remove_container(&container)) {
                Ok(_) => self.journal.line("removed the new container"),
                Err(error) => self
                    .journal
                    .line(format!("removing the new container failed: {error}")),
            }
        }
        if let Some(instance_id) = self.instance_id.take()
            && let Err(error) = self
                .ctx
                .store
                .set_instance_status(instance_id, InstanceStatus::Removed)
        {
            log::error!("instance {instance_id}: cannot mark removed: {error}");
        }
    }
}

/// Where a proxy forwards a domain to (the settings' `route_target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteTarget {
    /// The container's name: the proxy runs in Docker on the shared network (the default).
    ContainerName,
    /// The container's address on the shared network.
    ContainerIp,
    /// A port published on the host's loopback address: the proxy runs on the host.
    PublishedPort,
}

impl RouteTarget {
    fn of(settings: &Settings) -> RouteTarget {
        match settings.route_target.as_str() {
            "container_ip" => RouteTarget::ContainerIp,
            "published_port" => RouteTarget::PublishedPort,
            // Configuration is checked before it is stored; anything else is the default.
            _ => RouteTarget::ContainerName,
        }
    }
}

struct PulledImage {
    run_from: String,
    digest: Option<String>,
    exposed_ports: Vec<u16>,
}

/// The digest Docker recorded for `name` among an image's repo digests (`name@sha256:…`).
fn repo_digest(name: &ImageName, repo_digests: &[String]) -> Option<String> {
    repo_digests.iter().find_map(|entry| {
        let (entry_name, digest) = entry.split_once('@')?;
        let parsed = ImageName::parse(entry_name).ok()?;
        (parsed == *name).then(|| digest.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_digest_matches_the_pulled_name_only() {
        let name = ImageName::parse("127.0.0.1:5000/acme/app").unwrap();
        let digests = vec![
            "127.0.0.1:5000/other/app@sha256:aaaa".to_string(),
            "127.0.0.1:5000/acme/app@sha256:bbbb".to_string(),
        ];
        assert_eq!(repo_digest(&name, &digests).as_deref(), Some("sha256:bbbb"));
        assert_eq!(repo_digest(&name, &digests[..1]), None);
    }

    #[test]
    fn docker_hub_short_names_match_their_canonical_form() {
        let name = ImageName::parse("docker.io/library/alpine").unwrap();
        let digests = vec!["alpine@sha256:cccc".to_string()];
        assert_eq!(repo_digest(&name, &digests).as_deref(), Some("sha256:cccc"));
    }
}
