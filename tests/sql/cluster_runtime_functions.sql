-- requires: cluster
-- runtime_register upserts on (kind, name) keeping runtime_id; heartbeat and deregister
-- report a missing row; list filters; sweep marks stale rows offline.
BEGIN;
SELECT plan(9);

CREATE TEMP TABLE r1 AS SELECT * FROM noetl.runtime_register('worker_pool', ' w1 ', NULL, 'READY', '{}', NULL, 2, '{"type":"rust"}');
SELECT is((SELECT status FROM r1), 'ready', 'status is lower-cased');
CREATE TEMP TABLE r2 AS SELECT * FROM noetl.runtime_register('worker_pool', 'w1', 'http://x', NULL, NULL, NULL, NULL, '{"type":"python"}');
SELECT is((SELECT runtime_id FROM r2), (SELECT runtime_id FROM r1), 'a re-registration keeps the id');
SELECT is((SELECT uri FROM r2), 'http://x', 'a re-registration replaces the fields');
SELECT is((SELECT count(*)::int FROM noetl.runtime_heartbeat('worker_pool', 'nobody')), 0, 'heartbeat of an unknown runtime');
SELECT is(noetl.runtime_deregister('worker_pool', 'w1'), true, 'deregister marks offline');
SELECT is((SELECT status FROM noetl.runtime_heartbeat('worker_pool', 'w1')), 'ready', 'a heartbeat makes it ready again');
SELECT is((SELECT count(*)::int FROM noetl.runtime_list('worker_pool', 'ACTIVE', 'W', 'python')), 1, 'list filters');
UPDATE noetl.runtime SET heartbeat = now() - interval '1 hour';
SELECT is(noetl.runtime_sweep(30), 1, 'sweep marks a stale row offline');
SELECT is(noetl.runtime_sweep(30), 0, 'sweep is idempotent');

SELECT * FROM finish();
ROLLBACK;
