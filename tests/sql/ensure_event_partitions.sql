-- requires: shard
-- noetl.ensure_event_partitions() creates the quarterly event partitions from 2028-Q1 up to the
-- quarter containing p_until, cut at UTC boundaries, returns the names it created, is
-- idempotent, and skips (with a warning) a quarter whose ids already sit in event_default
-- (§2.8.1). Today is before 2028, so the first quarter is 2028-Q1.
BEGIN;
SELECT plan(15);
SET LOCAL TIME ZONE 'UTC';

SELECT is_empty($$SELECT * FROM noetl.ensure_event_partitions('2027-12-31 23:59:59+00')$$,
                'nothing is created for a horizon before 2028 (the migration owns those ranges)');

SELECT results_eq($$SELECT * FROM noetl.ensure_event_partitions('2028-12-31 23:59:59+00')$$,
                  ARRAY['event_2028_q1', 'event_2028_q2', 'event_2028_q3', 'event_2028_q4'],
                  'the quarters of 2028 are created and their names returned in order');

SELECT is_empty($$SELECT * FROM noetl.ensure_event_partitions('2028-12-31 23:59:59+00')$$,
                'a repeat call creates nothing and returns nothing');

SELECT is((SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) FROM pg_catalog.pg_class AS c
           WHERE c.oid = 'noetl.event_2028_q1'::regclass),
          $$FOR VALUES FROM ('529448671641600000') TO ('562425967411200000')$$,
          'event_2028_q1 has the bounds of §2.8.1');
SELECT is((SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) FROM pg_catalog.pg_class AS c
           WHERE c.oid = 'noetl.event_2028_q4'::regclass),
          $$FOR VALUES FROM ('628742946816000000') TO ('662082630451200000')$$,
          'event_2028_q4 has the bounds of §2.8.1');

-- a new partition carries the parent's keys, indexes and the result-shape check
SELECT is((SELECT count(*)::integer FROM pg_catalog.pg_index AS i
           WHERE i.indrelid = 'noetl.event_2028_q2'::regclass), 4,
          'event_2028_q2 has the four indexes of noetl.event');
INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status)
VALUES (noetl.snowflake_at('2028-05-01+00'), 1, 1, 'playbook_started', 'STARTED');
SELECT is((SELECT c.relname::text FROM noetl.event AS e JOIN pg_catalog.pg_class AS c ON c.oid = e.tableoid
           WHERE e.event_id = 1),
          'event_2028_q2', 'an execution id of May 2028 lands in event_2028_q2');
SELECT throws_ok($$INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status, result)
                   VALUES (noetl.snowflake_at('2028-05-01+00'), 1, 2, 'x', 'X', '[]')$$,
                 '23514', NULL, 'chk_event_result_shape applies to a created partition');

-- quarters are cut at UTC whatever the session zone: 2029-03-31 22:00 in New York is already
-- 2029-04-01 03:00 UTC, in the second quarter
SET LOCAL TIME ZONE 'America/New_York';
SELECT results_eq($$SELECT * FROM noetl.ensure_event_partitions('2029-03-31 22:00:00-04')$$,
                  ARRAY['event_2029_q1', 'event_2029_q2'],
                  'the quarter containing p_until is computed in UTC');
SELECT is((SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) FROM pg_catalog.pg_class AS c
           WHERE c.oid = 'noetl.event_2029_q2'::regclass),
          format('FOR VALUES FROM (%L) TO (%L)', noetl.snowflake_at('2029-04-01 00:00+00'),
                 noetl.snowflake_at('2029-07-01 00:00+00')),
          'event_2029_q2 is bounded by the UTC quarter starts');
SET LOCAL TIME ZONE 'UTC';

-- a quarter whose ids already sit in event_default is skipped, not failed
INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status)
VALUES (noetl.snowflake_at('2029-08-15+00'), 1, 3, 'playbook_started', 'STARTED');
SET LOCAL client_min_messages = error;  -- the WARNING it raises is expected here
SELECT results_eq($$SELECT * FROM noetl.ensure_event_partitions('2029-12-31+00')$$,
                  ARRAY['event_2029_q4'],
                  'the quarter with rows in event_default is skipped, the next one created');
RESET client_min_messages;
SELECT hasnt_table('noetl', 'event_2029_q3', 'event_2029_q3 was not created');
SELECT is((SELECT c.relname::text FROM noetl.event AS e JOIN pg_catalog.pg_class AS c ON c.oid = e.tableoid
           WHERE e.event_id = 3),
          'event_default', 'the row stays in event_default');

-- once the operator moves the rows out, the next run creates the partition
DELETE FROM noetl.event WHERE event_id = 3;
SELECT results_eq($$SELECT * FROM noetl.ensure_event_partitions('2029-12-31+00')$$,
                  ARRAY['event_2029_q3'], 'the skipped quarter is created once event_default is clear');

-- creating a partition locks noetl.event; the function bounds that wait itself
SELECT ok((SELECT p.proconfig FROM pg_catalog.pg_proc AS p
           WHERE p.oid = 'noetl.ensure_event_partitions(timestamptz)'::regprocedure)
          @> ARRAY['lock_timeout=5s'], 'ensure_event_partitions runs with lock_timeout 5s');

SELECT * FROM finish();
ROLLBACK;
