-- Registry polling is opt-in per stage: the fallback for registries that cannot call the webhook.
ALTER TABLE stages ADD COLUMN poll BOOLEAN NOT NULL DEFAULT 0;
