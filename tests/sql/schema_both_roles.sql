-- requires: both
-- With N = 1 the cluster database and shard 0 are one database (§1.1): it holds exactly the
-- union of the cluster and shard table sets, the common identity objects and the runner's
-- bookkeeping table, nothing more.
BEGIN;
SELECT plan(5);

SELECT set_eq(
    $$SELECT c.relname::text FROM pg_catalog.pg_class AS c
      WHERE c.relnamespace = 'noetl'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition$$,
    ARRAY['shard_info', 'schema_migration',
          'resource', 'catalog', 'credential', 'keychain', 'runtime', 'schedule',
          'execution', 'event', 'command', 'outbox', 'outbox_listener', 'transient', 'result_ref',
          'result_blob', 'step_state', 'loop_item', 'ingest_request'],
    'the coinciding database has exactly the cluster tables, the shard tables and the common tables');
SELECT set_eq(
    $$SELECT c.relname::text FROM pg_catalog.pg_class AS c
      WHERE c.relnamespace = 'noetl'::regnamespace AND c.relkind = 'v'
        -- a test harness may install pgTAP (which has views) into noetl; extensions are not ours
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')$$,
    ARRAY['event_log', 'temp_ref'], 'its views are event_log and temp_ref');
SELECT set_eq(
    $$SELECT c.relname::text FROM pg_catalog.pg_class AS c
      WHERE c.relnamespace = 'noetl'::regnamespace AND c.relkind = 'S'$$,
    ARRAY['snowflake_seq'], 'its only sequence is snowflake_seq (no serials)');
SELECT is((SELECT count(*)::integer FROM pg_catalog.pg_attribute AS a
           JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'noetl'::regnamespace AND c.relkind IN ('r', 'p', 'v')
             AND a.attnum > 0 AND NOT a.attisdropped
             AND a.atttypid IN ('timestamp'::regtype, 'timestamp[]'::regtype)),
          0, 'no column anywhere is a naive TIMESTAMP (hazard 10.6)');
-- the runner's bookkeeping table is not created by a migration, but must be there
SELECT has_table('noetl', 'schema_migration', 'noetl.schema_migration exists');

SELECT * FROM finish();
ROLLBACK;
