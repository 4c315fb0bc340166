-- A running countdown survives a restart: when it was started, next to its
-- length (V3's timer_secs). Empty while the countdown is stopped. Added to the
-- table and to _collections' fields in this one migration, as V3 does.

ALTER TABLE "rooms" ADD COLUMN "timer_started" TEXT DEFAULT '' NOT NULL;
UPDATE _collections SET fields = json_insert(fields, '$[#]', json('{"id":"date400904607","name":"timer_started","system":false,"hidden":false,"presentable":false,"required":false,"type":"date","min":"","max":""}'))
WHERE id = 'pbc_poker_rooms01';
