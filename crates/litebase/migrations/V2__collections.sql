-- Collections: every row describes a real table (or view) of the same name, with
-- what SQL cannot say (field types and options, API rules). Schema changes update
-- the table and this row in one transaction.
CREATE TABLE _collections (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT 'base' CHECK (type IN ('base', 'view', 'auth')),
    system     INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
    fields     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),
    indexes    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(indexes)),
    listRule   TEXT DEFAULT NULL,
    viewRule   TEXT DEFAULT NULL,
    createRule TEXT DEFAULT NULL,
    updateRule TEXT DEFAULT NULL,
    deleteRule TEXT DEFAULT NULL,
    options    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    created    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    updated    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))
) STRICT;

CREATE UNIQUE INDEX idx__collections_name ON _collections (name COLLATE NOCASE);
