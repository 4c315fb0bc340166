-- Outgoing webhooks: what a superuser configured, and the delivery outbox.
--
-- A delivery row is written inside the transaction of the change it reports (a
-- record hook), so a committed change always has its delivery and a rolled-back
-- one never does; the sender posts it after the commit and keeps its log here.

CREATE TABLE _webhooks (
    id          TEXT PRIMARY KEY NOT NULL,
    collection  TEXT NOT NULL,               -- the collection's id
    url         TEXT NOT NULL,
    actions     TEXT NOT NULL DEFAULT '[]',  -- JSON array of create/update/delete
    secret      TEXT NOT NULL,               -- HMAC-SHA256 key of the signature header
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created     TEXT NOT NULL DEFAULT '',
    updated     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE _webhookDeliveries (
    id          TEXT PRIMARY KEY NOT NULL,
    webhook     TEXT NOT NULL REFERENCES _webhooks (id) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    record      TEXT NOT NULL,               -- the record's id
    payload     TEXT NOT NULL,               -- the JSON body, as posted
    status      TEXT NOT NULL DEFAULT 'pending', -- pending, delivered, failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    nextAttempt INTEGER NOT NULL DEFAULT 0,  -- unix milliseconds
    lastStatus  INTEGER NOT NULL DEFAULT 0,  -- the receiver's HTTP status (0: none)
    lastError   TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL DEFAULT '',
    updated     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx__webhookDeliveries_due ON _webhookDeliveries (status, nextAttempt);
CREATE INDEX idx__webhookDeliveries_webhook ON _webhookDeliveries (webhook, created);
