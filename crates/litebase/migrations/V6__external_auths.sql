-- OAuth2 links, version 1: `_externalAuths` maps a provider's user (provider +
-- providerId) to an auth record (collectionRef + recordRef), as PocketBase's
-- system collection of the same name, with its field ids, indexes and rules (a
-- record sees and may remove its own links). The default `users` collection maps
-- the provider's name and avatar on sign-up, as PocketBase's does.

CREATE TABLE _externalAuths (
    id            TEXT PRIMARY KEY NOT NULL,
    collectionRef TEXT DEFAULT '' NOT NULL,
    recordRef     TEXT DEFAULT '' NOT NULL,
    provider      TEXT DEFAULT '' NOT NULL,
    providerId    TEXT DEFAULT '' NOT NULL,
    created       TEXT DEFAULT '' NOT NULL,
    updated       TEXT DEFAULT '' NOT NULL
);
CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (collectionRef, recordRef, provider);
CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (collectionRef, provider, providerId);

INSERT INTO _collections (id, name, type, system, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options)
VALUES ('pbc_2281828961', '_externalAuths', 'base', 1,
  '[{"id":"text3208210256","name":"id","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":15,"max":15,"pattern":"^[a-z0-9]+$","autogeneratePattern":"[a-z0-9]{15}","primaryKey":true},{"id":"text455797646","name":"collectionRef","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":0,"max":0,"pattern":"","autogeneratePattern":"","primaryKey":false},{"id":"text127846527","name":"recordRef","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":0,"max":0,"pattern":"","autogeneratePattern":"","primaryKey":false},{"id":"text2462348188","name":"provider","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":0,"max":0,"pattern":"","autogeneratePattern":"","primaryKey":false},{"id":"text1044722854","name":"providerId","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":0,"max":0,"pattern":"","autogeneratePattern":"","primaryKey":false},{"id":"autodate2990389176","name":"created","system":true,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":false},{"id":"autodate3332085495","name":"updated","system":true,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":true}]',
  '["CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (collectionRef, recordRef, provider)", "CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (collectionRef, provider, providerId)"]',
  '@request.auth.id != '''' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId',
  '@request.auth.id != '''' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId',
  NULL, NULL,
  '@request.auth.id != '''' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId',
  '{}');

UPDATE _collections
SET options = json_set(options, '$.auth.oauth2.mappedFields',
                       json('{"id":"","name":"name","username":"","avatarURL":"avatar"}'))
WHERE id = '_pb_users_auth_'
  AND json_extract(options, '$.auth.oauth2.mappedFields') = '{}';
