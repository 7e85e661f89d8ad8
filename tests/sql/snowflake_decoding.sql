-- requires: cluster
-- The snowflake helpers decode and encode the layout of §5.1: the worked example, the partition
-- bounds of §2.8.1, the shard index of SQL-minted ids, and a standalone cluster's machine 1023.
BEGIN;
SELECT plan(17);
SET LOCAL TIME ZONE 'UTC';

-- worked example (§5.1): 320816801799737344 = 2026-06-04T06:51:26.037Z, machine 1, sequence 0
SELECT is(noetl.snowflake_time(320816801799737344), '2026-06-04 06:51:26.037+00'::timestamptz,
          'snowflake_time decodes the worked example');
SELECT is(noetl.snowflake_machine(320816801799737344), 1, 'snowflake_machine decodes machine 1');
SELECT is(320816801799737344 & 4095, 0::bigint, 'the worked example has sequence 0');
SELECT is(noetl.snowflake_at('2026-06-04 06:51:26.037+00'), 320816801799737344 - (1 << 12),
          'snowflake_at is the smallest id of that millisecond (machine 0, sequence 0)');
SELECT is(noetl.snowflake_at('2026-06-04 06:51:26.037999+00'), noetl.snowflake_at('2026-06-04 06:51:26.037+00'),
          'snowflake_at truncates to the millisecond');
SELECT is(noetl.snowflake_at('2024-01-01 00:00:00+00'), 0::bigint, 'the epoch is 2024-01-01T00:00:00Z');
SELECT is(noetl.snowflake_at('2026-01-01 00:00:00-05'), noetl.snowflake_at('2026-01-01 05:00:00+00'),
          'snowflake_at depends on the instant, not on its written offset');

-- bounds of the fixed event partitions (§2.8.1) and the first quarterly ones
SELECT is(ARRAY[noetl.snowflake_at('2026-01-01+00'), noetl.snowflake_at('2026-04-01+00'),
                noetl.snowflake_at('2026-07-01+00'), noetl.snowflake_at('2026-10-01+00'),
                noetl.snowflake_at('2027-01-01+00'), noetl.snowflake_at('2027-07-01+00'),
                noetl.snowflake_at('2028-01-01+00'), noetl.snowflake_at('2028-04-01+00'),
                noetl.snowflake_at('2028-07-01+00'), noetl.snowflake_at('2028-10-01+00'),
                noetl.snowflake_at('2029-01-01+00')],
          ARRAY[264905529753600000, 297520437657600000, 330497733427200000, 363837417062400000,
                397177100697600000, 462769304371200000, 529448671641600000, 562425967411200000,
                595403263180800000, 628742946816000000, 662082630451200000]::bigint[],
          'snowflake_at gives the partition bounds of §2.8.1');

-- shard index (§5.6): machine - 512 for 512..1022, NULL otherwise
SELECT is(noetl.snowflake_shard_index((1::bigint << 22) | (512 << 12)), 0, 'machine 512 is shard 0');
SELECT is(noetl.snowflake_shard_index((1::bigint << 22) | (1022 << 12) | 4095), 510, 'machine 1022 is shard 510');
SELECT is(noetl.snowflake_shard_index(320816801799737344), NULL, 'an app-minted id (machine 1) has no shard');
SELECT is(noetl.snowflake_shard_index((1::bigint << 22) | (511 << 12)), NULL, 'machine 511 (app range) has no shard');
SELECT is(noetl.snowflake_shard_index((1::bigint << 22) | (1023 << 12)), NULL, 'machine 1023 (standalone cluster) has no shard');

-- this database is a standalone cluster: machine 1023, no shard index
SELECT is(noetl.snowflake_machine(noetl.snowflake_id()), 1023, 'a standalone cluster mints with machine 1023');
SELECT is(noetl.snowflake_shard_index(noetl.snowflake_id()), NULL, 'ids of a standalone cluster route to no shard');

-- round trip
SELECT is(noetl.snowflake_time(noetl.snowflake_at('2031-02-03 04:05:06.789+00')), '2031-02-03 04:05:06.789+00'::timestamptz,
          'snowflake_time inverts snowflake_at at millisecond precision');
SELECT is((SELECT format('%s/%s', p.provolatile, p.proparallel) FROM pg_catalog.pg_proc AS p
           WHERE p.oid = 'noetl.snowflake_at(timestamptz)'::regprocedure), 'i/s',
          'snowflake_at is IMMUTABLE (so constant bounds prune partitions at plan time)');

SELECT * FROM finish();
ROLLBACK;
