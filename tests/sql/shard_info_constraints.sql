-- requires: both
-- noetl.shard_info is a singleton whose machine id follows §5.2: 512 + shard_index for a shard
-- (the coinciding cluster + shard 0 included), 1023 for a standalone cluster database.
BEGIN;
SELECT plan(8);

SELECT throws_ok($$INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
                   VALUES (true, true, 0, 1, 512)$$, '23505', NULL, 'a second identity row is refused');

DELETE FROM noetl.shard_info;
SELECT throws_ok($$INSERT INTO noetl.shard_info (singleton, is_cluster, is_shard, shard_index, shard_count, machine_id)
                   VALUES (false, true, true, 0, 1, 512)$$, '23514', NULL, 'the singleton key can only be true');
SELECT throws_ok($$INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
                   VALUES (false, true, 2, 2, 514)$$, '23514', NULL, 'shard_index must be below shard_count');
SELECT throws_ok($$INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
                   VALUES (true, false, 0, 1, 1023)$$, '23514', NULL, 'a database that is not a shard has no shard_index');
SELECT throws_ok($$INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
                   VALUES (false, true, 1, 2, 512)$$, '23514', NULL, 'a shard mints with machine 512 + shard_index');
SELECT throws_ok($$INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
                   VALUES (true, false, NULL, 1, 1000)$$, '23514', NULL, 'a standalone cluster mints with machine 1023');
SELECT throws_ok($$INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
                   VALUES (false, true, 0, 512, 512)$$, '23514', NULL, 'at most 511 shards');
SELECT lives_ok($$INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
                  VALUES (false, true, 510, 511, 1022)$$, 'shard 510 of 511 mints with machine 1022');

SELECT * FROM finish();
ROLLBACK;
