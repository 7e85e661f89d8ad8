-- requires: both
-- noetl.shard_identity() returns this database's identity row for the startup checks of §1.5;
-- in the coinciding cluster + shard 0 database that is both roles, shard 0 of 1, machine 512.
BEGIN;
SELECT plan(4);

SELECT results_eq(
    $$SELECT is_cluster, is_shard, shard_index, shard_count, machine_id FROM noetl.shard_identity()$$,
    $$VALUES (true, true, 0, 1, 512)$$,
    'a coinciding cluster + shard 0 reports both roles, shard 0 of 1, machine 512');
SELECT is((SELECT database_uuid FROM noetl.shard_identity()),
          (SELECT database_uuid FROM noetl.shard_info), 'database_uuid is the recorded one');
SELECT is(noetl.snowflake_machine(noetl.snowflake_id()), 512, 'ids minted here carry machine 512');

DELETE FROM noetl.shard_info;
SELECT throws_ok('SELECT * FROM noetl.shard_identity()', '55000', NULL,
                 'an unmigrated database (no identity row) raises instead of returning NULLs');

SELECT * FROM finish();
ROLLBACK;
