-- requires: shard
-- noetl.snowflake_id() in shard 1 of 2 mints strictly increasing, distinct ids carrying machine
-- id 512 + 1 = 513, whose time part is "now" and whose sequence part is nextval % 4096 (§5.3).
BEGIN;
SELECT plan(9);

CREATE TEMP TABLE minted ON COMMIT DROP AS
SELECT g AS n, noetl.snowflake_id() AS id
FROM generate_series(1, 5000) AS g;

SELECT is((SELECT count(DISTINCT id)::integer FROM minted), 5000, '5000 ids minted in a row are distinct');
-- Ids of one session increase, except where the 12-bit sequence wraps (4095 -> 0) inside one
-- millisecond: the spec takes nextval % 4096 without a per-millisecond reset (§5.3), so
-- uniqueness, not strict order, is the guarantee there.
SELECT is((SELECT count(*)::integer
           FROM (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM minted) AS s
           WHERE id <= prev
             AND NOT ((id >> 22) = (prev >> 22) AND (id & 4095) < (prev & 4095))),
          0, 'each id is greater than the one before, except at a sequence wrap within one ms');
SELECT is((SELECT count(*)::integer
           FROM (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM minted) AS s
           WHERE (id >> 22) < (prev >> 22)),
          0, 'the millisecond part never goes backwards');
SELECT is((SELECT array_agg(DISTINCT noetl.snowflake_machine(id)) FROM minted), ARRAY[513],
          'every id carries machine id 513 (512 + shard_index 1)');
SELECT is((SELECT array_agg(DISTINCT noetl.snowflake_shard_index(id)) FROM minted), ARRAY[1],
          'snowflake_shard_index recovers shard 1 from every id');
SELECT ok((SELECT bool_and(id > 0) FROM minted), 'ids are positive (bit 63 clear)');
SELECT ok((SELECT bool_and(noetl.snowflake_time(id) BETWEEN now() - interval '1 second'
                                                         AND clock_timestamp() + interval '1 second')
           FROM minted), 'the time part of each id is the minting instant');

-- the sequence part
SELECT is(noetl.snowflake_id() & 4095, (pg_catalog.currval('noetl.snowflake_seq') % 4096),
          'the low 12 bits equal nextval(snowflake_seq) % 4096');

SELECT is((SELECT format('%s/%s', p.provolatile, p.proparallel) FROM pg_catalog.pg_proc AS p
           WHERE p.oid = 'noetl.snowflake_id()'::regprocedure), 'v/u',
          'snowflake_id is VOLATILE and PARALLEL UNSAFE');

SELECT * FROM finish();
ROLLBACK;
