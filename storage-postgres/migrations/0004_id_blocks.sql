-- Each `mallkit serve` process takes one block of 2^32 ids at start
-- (`PgStore::next_id_block`), so processes sharing a database never hand out
-- the same id. Block 0 is left to fixed ids (demo data, tests).
CREATE SEQUENCE mallkit_id_blocks START WITH 1 MINVALUE 1;
