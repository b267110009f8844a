-- A stage that runs several tags side by side may remove the extra instances nobody has
-- redeployed for a while: how long, in ms; NULL keeps them until they are evicted or removed.
ALTER TABLE stages ADD COLUMN expire_after_ms BIGINT;
