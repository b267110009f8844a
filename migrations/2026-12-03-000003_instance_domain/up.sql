-- The domain a proxy routes to an instance (its stage's subdomain), once routed; NULL when no
-- proxy is configured and the instance is reached at its container address.
ALTER TABLE instances ADD COLUMN domain TEXT;
