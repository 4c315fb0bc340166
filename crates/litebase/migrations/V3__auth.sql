-- Auth collections, version 1: `_superusers` becomes an ordinary (system) auth
-- collection, the default `users` collection appears, and one-time passwords get
-- their table. Field ids and options follow PocketBase's, so the SDK sees the same.

INSERT INTO _collections (id, name, type, system, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options)
VALUES ('pbc_3142635823', '_superusers', 'auth', 1,
  '[{"id":"text3208210256","name":"id","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":15,"max":15,"pattern":"^[a-z0-9]+$","autogeneratePattern":"[a-z0-9]{15}","primaryKey":true},{"id":"password901924565","name":"password","system":true,"hidden":true,"presentable":false,"required":true,"type":"password","min":8,"max":0,"pattern":"","cost":0},{"id":"text2504183744","name":"tokenKey","system":true,"hidden":true,"presentable":false,"required":true,"type":"text","min":30,"max":60,"pattern":"","autogeneratePattern":"[a-zA-Z0-9]{50}","primaryKey":false},{"id":"email3885137012","name":"email","system":true,"hidden":false,"presentable":false,"required":true,"type":"email","exceptDomains":[],"onlyDomains":[]},{"id":"bool1547992806","name":"emailVisibility","system":true,"hidden":false,"presentable":false,"required":false,"type":"bool"},{"id":"bool256245529","name":"verified","system":true,"hidden":false,"presentable":false,"required":false,"type":"bool"},{"id":"autodate2990389176","name":"created","system":true,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":false},{"id":"autodate3332085495","name":"updated","system":true,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":true}]',
  '["CREATE UNIQUE INDEX idx__superusers_email ON _superusers (email COLLATE NOCASE)", "CREATE UNIQUE INDEX idx__superusers_tokenKey ON _superusers (tokenKey)"]',
  NULL, NULL, NULL, NULL, NULL,
  '{"auth":{"authRule":"","manageRule":null,"passwordAuth":{"enabled":true,"identityFields":["email"]},"otp":{"enabled":false,"duration":180,"length":8},"mfa":{"enabled":false,"duration":1800,"rule":""},"oauth2":{"enabled":false,"providers":[],"mappedFields":{}},"authToken":{"duration":86400},"passwordResetToken":{"duration":1800},"emailChangeToken":{"duration":1800},"verificationToken":{"duration":259200},"fileToken":{"duration":180}}}');

CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    password        TEXT DEFAULT '' NOT NULL,
    tokenKey        TEXT DEFAULT '' NOT NULL,
    email           TEXT DEFAULT '' NOT NULL,
    emailVisibility BOOLEAN DEFAULT FALSE NOT NULL,
    verified        BOOLEAN DEFAULT FALSE NOT NULL,
    name            TEXT DEFAULT '' NOT NULL,
    avatar          TEXT DEFAULT '' NOT NULL,
    created         TEXT DEFAULT '' NOT NULL,
    updated         TEXT DEFAULT '' NOT NULL
);
CREATE UNIQUE INDEX `idx_tokenKey_users` ON `users` (`tokenKey`);
CREATE UNIQUE INDEX `idx_email_users` ON `users` (`email` COLLATE NOCASE) WHERE `email` != '';

INSERT INTO _collections (id, name, type, system, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options)
VALUES ('_pb_users_auth_', 'users', 'auth', 0,
  '[{"id":"text3208210256","name":"id","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":15,"max":15,"pattern":"^[a-z0-9]+$","autogeneratePattern":"[a-z0-9]{15}","primaryKey":true},{"id":"password901924565","name":"password","system":true,"hidden":true,"presentable":false,"required":true,"type":"password","min":8,"max":0,"pattern":"","cost":0},{"id":"text2504183744","name":"tokenKey","system":true,"hidden":true,"presentable":false,"required":true,"type":"text","min":30,"max":60,"pattern":"","autogeneratePattern":"[a-zA-Z0-9]{50}","primaryKey":false},{"id":"email3885137012","name":"email","system":true,"hidden":false,"presentable":false,"required":true,"type":"email","exceptDomains":[],"onlyDomains":[]},{"id":"bool1547992806","name":"emailVisibility","system":true,"hidden":false,"presentable":false,"required":false,"type":"bool"},{"id":"bool256245529","name":"verified","system":true,"hidden":false,"presentable":false,"required":false,"type":"bool"},{"id":"text1579384326","name":"name","system":false,"hidden":false,"presentable":false,"required":false,"type":"text","min":0,"max":255,"pattern":"","autogeneratePattern":"","primaryKey":false},{"id":"file376926767","name":"avatar","system":false,"hidden":false,"presentable":false,"required":false,"type":"file","maxSelect":1,"maxSize":0,"mimeTypes":["image/jpeg","image/png","image/svg+xml","image/gif","image/webp"],"thumbs":[],"protected":false},{"id":"autodate2990389176","name":"created","system":true,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":false},{"id":"autodate3332085495","name":"updated","system":true,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":true}]',
  '["CREATE UNIQUE INDEX `idx_tokenKey_users` ON `users` (`tokenKey`)", "CREATE UNIQUE INDEX `idx_email_users` ON `users` (`email` COLLATE NOCASE) WHERE `email` != ''''"]',
  'id = @request.auth.id', 'id = @request.auth.id', '', 'id = @request.auth.id', 'id = @request.auth.id',
  '{"auth":{"authRule":"","manageRule":null,"passwordAuth":{"enabled":true,"identityFields":["email"]},"otp":{"enabled":false,"duration":180,"length":8},"mfa":{"enabled":false,"duration":1800,"rule":""},"oauth2":{"enabled":false,"providers":[],"mappedFields":{}},"authToken":{"duration":604800},"passwordResetToken":{"duration":1800},"emailChangeToken":{"duration":1800},"verificationToken":{"duration":259200},"fileToken":{"duration":180}}}');

-- One-time passwords: the code is stored hashed; a row lives until used or expired.
CREATE TABLE _otps (
    id            TEXT PRIMARY KEY NOT NULL,
    collectionRef TEXT NOT NULL,
    recordRef     TEXT NOT NULL,
    password      TEXT NOT NULL,
    sentTo        TEXT NOT NULL DEFAULT '',
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now')),
    updated       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX idx__otps_record ON _otps (collectionRef, recordRef);
