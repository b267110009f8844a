-- Notices accepted for sending and not yet done with (sent to every target, or given up on).
-- A notice is written here before it is queued and removed once handled, so notices queued
-- when the process dies are sent at the next start. `event` is `waiting_approval`, or
-- `finished` for the end of a deploy (read again from the deploy row when sent).
CREATE TABLE notice_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    deploy_id BIGINT NOT NULL REFERENCES deploys(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
