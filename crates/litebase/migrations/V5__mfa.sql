-- Multi-factor auth. `_mfas` has PocketBase's fields: a first factor that passed
-- (its method) while the record still owes a second one; a row lives until the
-- second factor or its collection's `mfa.duration` ends it.
CREATE TABLE _mfas (
    id            TEXT PRIMARY KEY NOT NULL,
    collectionRef TEXT NOT NULL,
    recordRef     TEXT NOT NULL,
    method        TEXT NOT NULL,
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    updated       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX idx__mfas_record ON _mfas (collectionRef, recordRef);

-- Authenticator apps (TOTP, RFC 6238), litebase's extra: one per record. The
-- secret is needed to check codes, so it is stored as is; no collection exposes
-- this table. `confirmed` = 0 while enrolment waits for a first code; `lastStep`
-- is the newest time step accepted (a code works once); `failures` counts wrong
-- codes in a row since `failedAt` (too many lock the record out for a while).
CREATE TABLE _totps (
    collectionRef TEXT NOT NULL,
    recordRef     TEXT NOT NULL,
    secret        TEXT NOT NULL,
    confirmed     INTEGER NOT NULL DEFAULT 0,
    lastStep      INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    failedAt      TEXT NOT NULL DEFAULT '',
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    updated       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    PRIMARY KEY (collectionRef, recordRef)
) STRICT;

-- One-time recovery codes of a TOTP enrolment, stored as SHA-256 hashes (each
-- code carries 80 random bits, so a fast hash is enough); a used code is deleted.
CREATE TABLE _totpRecoveryCodes (
    collectionRef TEXT NOT NULL,
    recordRef     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    PRIMARY KEY (collectionRef, recordRef, hash)
) STRICT;

-- Passkeys (WebAuthn), litebase's extra: a record's registered credentials
-- (`passkey`: webauthn-rs's JSON of the public key and its counter; `id`: the
-- credential id, base64url), and the state of a ceremony between its begin
-- and finish requests (kept here, never sent to the client; 5 minutes).
CREATE TABLE _webauthnCredentials (
    id            TEXT PRIMARY KEY NOT NULL,
    collectionRef TEXT NOT NULL,
    recordRef     TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    passkey       TEXT NOT NULL,
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    updated       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX idx__webauthnCredentials_record ON _webauthnCredentials (collectionRef, recordRef);

CREATE TABLE _webauthnCeremonies (
    id            TEXT PRIMARY KEY NOT NULL,
    collectionRef TEXT NOT NULL,
    recordRef     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))
) STRICT;
