-- The first schema: configuration (settings, registries, projects, stages),
-- what runs (instances), what happened (deploys, deploy_logs) and what the poller has seen (poll_state).
-- Times are milliseconds since the Unix epoch, UTC.

CREATE TABLE settings (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    domain TEXT NOT NULL,
    network TEXT NOT NULL,
    subdomain_pattern TEXT NOT NULL,
    route_target TEXT NOT NULL,
    poll_interval_secs INTEGER NOT NULL,
    webhook_secret TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE registries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    username TEXT,
    password BLOB,
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    image TEXT NOT NULL UNIQUE,
    registry_id INTEGER REFERENCES registries (id) ON DELETE RESTRICT,
    port INTEGER,
    health_path TEXT NOT NULL,
    health_interval_ms BIGINT NOT NULL,
    health_timeout_ms BIGINT NOT NULL,
    health_retries INTEGER NOT NULL,
    health_start_period_ms BIGINT NOT NULL,
    env TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX projects_registry_id ON projects (registry_id);

CREATE TABLE stages (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    tag_pattern TEXT NOT NULL,
    auto_deploy BOOLEAN NOT NULL,
    max_instances INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE deploys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    short_id TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    stage_id INTEGER NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    image TEXT NOT NULL,
    digest TEXT,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX deploys_project_id ON deploys (project_id);
CREATE INDEX deploys_stage_id ON deploys (stage_id);
CREATE INDEX deploys_status ON deploys (status);

CREATE TABLE deploy_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    deploy_id INTEGER NOT NULL REFERENCES deploys (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    message TEXT NOT NULL,
    UNIQUE (deploy_id, seq)
);

CREATE TABLE instances (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    stage_id INTEGER NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    deploy_id INTEGER NOT NULL REFERENCES deploys (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    digest TEXT,
    container_id TEXT NOT NULL,
    container_name TEXT NOT NULL UNIQUE,
    address TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX instances_project_id ON instances (project_id);
CREATE INDEX instances_stage_id ON instances (stage_id);
CREATE INDEX instances_deploy_id ON instances (deploy_id);

CREATE TABLE poll_state (
    stage_id INTEGER PRIMARY KEY NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
    last_tag TEXT,
    last_digest TEXT,
    checked_at BIGINT
);
