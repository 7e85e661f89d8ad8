-- requires: shard
-- Events land in the range partition of their execution id (§2.8.1), the event_id has no
-- default (it is always minted or honoured by the writer), and a query for one execution, or
-- for an id range built with snowflake_at, reads only the partitions that can hold it.
BEGIN;
SELECT plan(9);

CREATE FUNCTION pg_temp.plan_of(p_query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v_line text; v_plan text := '';
BEGIN
    FOR v_line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || p_query LOOP
        v_plan := v_plan || v_line || E'\n';
    END LOOP;
    RETURN v_plan;
END $$;

SELECT throws_ok($$INSERT INTO noetl.event (execution_id, catalog_id, event_type, status)
                   VALUES (noetl.snowflake_at('2026-11-22+00'), 1, 'step.enter', 'ENTERED')$$,
                 '23502', NULL, 'event_id has no default: an event without one is refused');

INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status)
VALUES (noetl.snowflake_at('2026-11-22+00') + 1, 1, noetl.snowflake_id(), 'playbook_started', 'STARTED'),
       (noetl.snowflake_at('2026-11-22+00') + 1, 1, noetl.snowflake_id(), 'step.enter', 'ENTERED'),
       (noetl.snowflake_at('2026-03-01+00'), 1, noetl.snowflake_id(), 'playbook_started', 'STARTED'),
       (0, 1, 1, 'playbook_started', 'STARTED'),
       (-5, 1, 1, 'playbook_started', 'STARTED'),
       (noetl.snowflake_at('2027-12-31 23:59:59.999+00'), 1, 1, 'playbook_started', 'STARTED');

SELECT results_eq(
    $$SELECT c.relname::text COLLATE "default", count(*)::integer
      FROM noetl.event AS e JOIN pg_catalog.pg_class AS c ON c.oid = e.tableoid
      GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('event_2026_q1', 1), ('event_2026_q4', 2), ('event_2027_h2', 1), ('event_pre_2026', 2)$$,
    'each event lands in the partition of its execution id (0 and negative ids in event_pre_2026)');
SELECT is((SELECT created_at FROM noetl.event WHERE event_type = 'playbook_started' AND execution_id = noetl.snowflake_at('2026-11-22+00') + 1)
          < (SELECT created_at FROM noetl.event WHERE event_type = 'step.enter'),
          true, 'created_at defaults to clock_timestamp(): rows of one transaction get increasing times');
SELECT is((SELECT count(*)::integer FROM noetl.event_default), 0, 'event_default stays empty');

-- pruning: one execution reads one partition
SELECT matches(pg_temp.plan_of(format('SELECT * FROM noetl.event WHERE execution_id = %s',
                                      noetl.snowflake_at('2026-11-22+00') + 1)),
               'event_2026_q4', 'a lookup by execution id reads event_2026_q4');
SELECT doesnt_match(pg_temp.plan_of(format('SELECT * FROM noetl.event WHERE execution_id = %s',
                                           noetl.snowflake_at('2026-11-22+00') + 1)),
                    'event_(pre|default|2026_q[123]|2027)', '... and no other partition');
-- snowflake_at is IMMUTABLE, so a range written with it is folded and pruned at plan time
SELECT matches(pg_temp.plan_of($$SELECT * FROM noetl.event
                                 WHERE execution_id >= noetl.snowflake_at('2026-11-01+00')
                                   AND execution_id < noetl.snowflake_at('2027-02-01+00')$$),
               'event_2026_q4(.|\n)*event_2027_h1', 'an id range over a year end reads event_2026_q4 and event_2027_h1');
SELECT doesnt_match(pg_temp.plan_of($$SELECT * FROM noetl.event
                                      WHERE execution_id >= noetl.snowflake_at('2026-11-01+00')
                                        AND execution_id < noetl.snowflake_at('2027-02-01+00')$$),
                    'event_(pre|default|2026_q[123]|2027_h2)', '... and no other partition');
SELECT is((SELECT count(*) FROM noetl.event WHERE execution_id = noetl.snowflake_at('2026-11-22+00') + 1),
          2::bigint, 'both events of the execution are found through the parent table');

SELECT * FROM finish();
ROLLBACK;
