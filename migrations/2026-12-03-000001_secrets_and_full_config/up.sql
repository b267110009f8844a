-- Secrets become ciphertext (sealed by the application, bound to table, column and row), and the
-- configuration grows to the full seed format: NPM settings, registry credentials, secret
-- environment variables, volumes, limits and the full stage rules.
-- Every `*_env` column remembers the environment variable a secret was imported from, so an
-- export can name it again instead of writing the value.
-- Runs without foreign-key enforcement (see store::pool), so rebuilding `stages` keeps the rows
-- that refer to it.

-- settings: the plaintext webhook secret moves to `legacy_webhook_secret` until the server seals
-- it into `webhook_secret` at its next start (the key is not available to SQL).
CREATE TABLE settings_new (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    domain TEXT NOT NULL,
    network TEXT NOT NULL,
    subdomain_pattern TEXT NOT NULL,
    route_target TEXT NOT NULL,
    poll_interval_secs INTEGER NOT NULL,
    webhook_secret BLOB,
    webhook_secret_env TEXT,
    legacy_webhook_secret TEXT,
    npm_url TEXT,
    npm_identity TEXT,
    npm_password BLOB,
    npm_password_env TEXT,
    npm_certificate_id INTEGER,
    npm_ssl_forced BOOLEAN NOT NULL DEFAULT 0,
    npm_allow_websocket_upgrade BOOLEAN NOT NULL DEFAULT 1,
    npm_access_list_id INTEGER,
    updated_at BIGINT NOT NULL
);
INSERT INTO settings_new (id, domain, network, subdomain_pattern, route_target, poll_interval_secs,
                          legacy_webhook_secret, updated_at)
    SELECT id, domain, network, subdomain_pattern, route_target, poll_interval_secs, webhook_secret, updated_at
    FROM settings;
DROP TABLE settings;
ALTER TABLE settings_new RENAME TO settings;

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    -- Notification URLs often carry a token (Slack, Discord, Gotify): sealed like any secret.
    url BLOB NOT NULL,
    url_env TEXT,
    created_at BIGINT NOT NULL
);

ALTER TABLE registries ADD COLUMN password_env TEXT;

ALTER TABLE projects ADD COLUMN volumes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN memory_bytes BIGINT;
ALTER TABLE projects ADD COLUMN nano_cpus BIGINT;

CREATE TABLE project_secret_env (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value BLOB NOT NULL,
    value_env TEXT,
    UNIQUE (project_id, name)
);

-- stages: a stage selects tags by a glob, a regex or a semver constraint, so tag_pattern becomes
-- optional; promotion, custom subdomains and digest watching join it.
CREATE TABLE stages_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    tag_pattern TEXT,
    tag_regex TEXT,
    tag_semver TEXT,
    include_prerelease BOOLEAN NOT NULL DEFAULT 0,
    auto_deploy BOOLEAN NOT NULL,
    max_instances INTEGER NOT NULL,
    promote_from TEXT,
    subdomain TEXT,
    watch_digest BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
INSERT INTO stages_new (id, project_id, name, tag_pattern, auto_deploy, max_instances, created_at)
    SELECT id, project_id, name, tag_pattern, auto_deploy, max_instances, created_at FROM stages;
DROP TABLE stages;
ALTER TABLE stages_new RENAME TO stages;
