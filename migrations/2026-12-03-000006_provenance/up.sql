-- Provenance: the steps each deploy went through, who decided a deploy that waited for approval,
-- and which deploy a promotion or a rollback repeats. Also how many images each stage keeps.

-- One row per step a deploy went through, written when the step ends, in order: its name
-- (`pull`, `create`, `start`, `health`, `restart_policy`, `route`, `drain`, `replace`, `prune`),
-- when it started (ms since the epoch), how long it took, and whether it passed. A failed deploy's
-- last step is the one it failed at.
CREATE TABLE deploy_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    deploy_id INTEGER NOT NULL REFERENCES deploys (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0),
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed'))
);
CREATE INDEX deploy_steps_deploy_id ON deploy_steps (deploy_id);

-- deploys: who approved or rejected a deploy that waited for approval (until there are users,
-- `api` and the client's address, such as `api 127.0.0.1`); NULL for deploys nobody decided.
ALTER TABLE deploys ADD COLUMN decided_by TEXT;
-- deploys: what a promotion or a rollback repeats: the deploy whose instance runs the promoted
-- image in the source stage, or the earlier healthy deploy a rollback goes back to.
ALTER TABLE deploys ADD COLUMN source_deploy_id INTEGER REFERENCES deploys (id) ON DELETE SET NULL;

-- stages: how many images of its latest healthy deploys (its rollback targets) a stage keeps
-- on the engine; older images the deployer pulled are removed when no container uses them.
ALTER TABLE stages ADD COLUMN keep_images INTEGER NOT NULL DEFAULT 3 CHECK (keep_images >= 1);
