-- litebase system tables, version 1.
-- Timestamps use PocketBase's format: '2026-01-02 15:04:05.000Z' (UTC).

-- Key/value settings and secrets of the instance.
CREATE TABLE _params (
    id      TEXT PRIMARY KEY NOT NULL,
    value   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(value)),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))
) STRICT;

-- A random secret per instance, for signing tokens; generated here so it never
-- has to be configured and never leaves the database.
INSERT INTO _params (id, value)
VALUES ('secrets', json_object('superusers', lower(hex(randomblob(32)))));

-- Superuser accounts: they may do anything through the API and the admin UI.
CREATE TABLE _superusers (
    id              TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 15),
    email           TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    emailVisibility INTEGER NOT NULL DEFAULT 0 CHECK (emailVisibility IN (0, 1)),
    verified        INTEGER NOT NULL DEFAULT 1 CHECK (verified IN (0, 1)),
    password        TEXT NOT NULL,
    tokenKey        TEXT NOT NULL,
    created         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    updated         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))
) STRICT;

CREATE UNIQUE INDEX idx__superusers_email ON _superusers (email COLLATE NOCASE);
CREATE UNIQUE INDEX idx__superusers_tokenKey ON _superusers (tokenKey);
