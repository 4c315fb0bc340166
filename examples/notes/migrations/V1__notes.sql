-- The notes collection: a table plus its row in _collections, written together in
-- one migration so the admin UI, the records API and the rules all see it.
--
-- Every note belongs to one user (`owner`, deleted with that user). The rules let a
-- signed-in user reach only their own notes: guests list nothing and view nothing,
-- a note can only be created for oneself, and an update may not hand a note to
-- someone else. Superusers bypass the rules, as always.

CREATE TABLE "notes" ("id" TEXT PRIMARY KEY NOT NULL, "title" TEXT DEFAULT '' NOT NULL, "body" TEXT DEFAULT '' NOT NULL, "done" BOOLEAN DEFAULT FALSE NOT NULL, "owner" TEXT DEFAULT '' NOT NULL, "created" TEXT DEFAULT '' NOT NULL, "updated" TEXT DEFAULT '' NOT NULL);
CREATE INDEX `idx_notes_owner` ON `notes` (`owner`);
INSERT INTO _collections (id, name, type, system, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options)
VALUES ('pbc_notes_notes1', 'notes', 'base', 0,
  '[{"id":"text3208210256","name":"id","system":true,"hidden":false,"presentable":false,"required":true,"type":"text","min":15,"max":15,"pattern":"^[a-z0-9]+$","autogeneratePattern":"[a-z0-9]{15}","primaryKey":true},{"id":"text2841036207","name":"title","system":false,"hidden":false,"presentable":true,"required":true,"type":"text","min":0,"max":200,"pattern":"","autogeneratePattern":"","primaryKey":false},{"id":"text3725765462","name":"body","system":false,"hidden":false,"presentable":false,"required":false,"type":"text","min":0,"max":10000,"pattern":"","autogeneratePattern":"","primaryKey":false},{"id":"bool1063178203","name":"done","system":false,"hidden":false,"presentable":false,"required":false,"type":"bool"},{"id":"relation3479234172","name":"owner","system":false,"hidden":false,"presentable":false,"required":true,"type":"relation","collectionId":"_pb_users_auth_","cascadeDelete":true,"minSelect":0,"maxSelect":1},{"id":"autodate2990389176","name":"created","system":false,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":false},{"id":"autodate3332085495","name":"updated","system":false,"hidden":false,"presentable":false,"required":false,"type":"autodate","onCreate":true,"onUpdate":true}]',
  '["CREATE INDEX `idx_notes_owner` ON `notes` (`owner`)"]',
  'owner = @request.auth.id',
  'owner = @request.auth.id',
  '@request.auth.id != "" && owner = @request.auth.id',
  'owner = @request.auth.id && (@request.body.owner:isset = false || @request.body.owner = @request.auth.id)',
  'owner = @request.auth.id',
  '{}');
