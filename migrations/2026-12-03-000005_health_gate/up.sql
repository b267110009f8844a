-- The health gate: a project checks a new container over HTTP, accepting the statuses in
-- `health_status` (ranges such as `200-399`, comma-separated), or waits on the container's own
-- Docker HEALTHCHECK (`health_kind` 'docker'). Existing projects keep what they had: HTTP, any
-- 2xx or 3xx.
ALTER TABLE projects ADD COLUMN health_kind TEXT NOT NULL DEFAULT 'http'
    CHECK (health_kind IN ('http', 'docker'));
ALTER TABLE projects ADD COLUMN health_status TEXT NOT NULL DEFAULT '200-399';
