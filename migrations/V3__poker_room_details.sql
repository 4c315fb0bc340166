-- What a room needs to come back whole after a restart, beyond V2's columns:
-- the countdown's length, the deck each round was played with, and the name each
-- vote's owner had (so a completed round stays readable after its voter leaves or
-- is removed). Each column is added to its table and to _collections' fields in
-- this one migration.

ALTER TABLE "rooms" ADD COLUMN "timer_secs" NUMERIC DEFAULT 0 NOT NULL;
UPDATE _collections SET fields = json_insert(fields, '$[#]', json('{"id":"number2207405736","name":"timer_secs","system":false,"hidden":false,"presentable":false,"required":false,"type":"number","min":0,"max":3600,"onlyInt":true}'))
WHERE id = 'pbc_poker_rooms01';

ALTER TABLE "rounds" ADD COLUMN "deck" JSON DEFAULT NULL;
UPDATE _collections SET fields = json_insert(fields, '$[#]', json('{"id":"json1926716212","name":"deck","system":false,"hidden":false,"presentable":false,"required":false,"type":"json","maxSize":4096}'))
WHERE id = 'pbc_poker_round01';

ALTER TABLE "votes" ADD COLUMN "name" TEXT DEFAULT '' NOT NULL;
UPDATE _collections SET fields = json_insert(fields, '$[#]', json('{"id":"text1579384326","name":"name","system":false,"hidden":false,"presentable":false,"required":false,"type":"text","min":0,"max":32,"pattern":"","autogeneratePattern":"","primaryKey":false}'))
WHERE id = 'pbc_poker_votes01';
