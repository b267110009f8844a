-- Container settings are applied to containers, and each deploy records what it gave its
-- container.
--
-- projects: what the engine does when the container exits (`no`, `always`, `unless-stopped`,
-- `on-failure`, `on-failure:N`), how long a stop waits before killing, and the signal a stop
-- sends (NULL: the image's own STOPSIGNAL).
ALTER TABLE projects ADD COLUMN restart_policy TEXT NOT NULL DEFAULT 'unless-stopped';
ALTER TABLE projects ADD COLUMN stop_timeout_ms BIGINT NOT NULL DEFAULT 10000;
ALTER TABLE projects ADD COLUMN stop_signal TEXT;

-- stages: volume mounts added to the project's (a JSON array like projects.volumes); one with
-- the same path inside the container replaces the project's.
ALTER TABLE stages ADD COLUMN volumes TEXT NOT NULL DEFAULT '[]';

-- deploys: a JSON object of what the deploy created its container with (image by digest, plain
-- environment, the names of the secret variables, volumes, limits, restart policy, stop signal
-- and timeout). Secret values are never in it. NULL until the container is about to be created,
-- and for deploys made before this column existed.
ALTER TABLE deploys ADD COLUMN container_settings TEXT;
