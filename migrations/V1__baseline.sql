-- poker's migration history starts here. The rooms, participants, rounds and votes
-- collections arrive in later migrations, once litebase has collections to put
-- them in. This file is a no-op so that the numbering and the history table exist.
SELECT 1;
