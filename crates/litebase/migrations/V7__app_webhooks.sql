-- Webhook targets an app owns (poker's results webhook of a room), next to the
-- superusers' per-collection webhooks in the same table, so the one sender posts
-- both with the same retries, ordering and delivery log.
--
-- owner: '' for a superuser's webhook, else the app's name. App targets are
--   never matched by the record hook; the app queues their deliveries itself.
-- publicOnly: the sender connects only to public addresses (the URL was chosen
--   by someone who must not reach the server's own network).
-- appData: what the owning app keeps about the target (JSON); litebase never
--   reads it.

ALTER TABLE _webhooks ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE _webhooks ADD COLUMN publicOnly BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE _webhooks ADD COLUMN appData TEXT NOT NULL DEFAULT '{}';
CREATE INDEX idx__webhooks_owner ON _webhooks (owner);
