-- requires: shard
-- noetl.outbox_claim (data-model §8.3): claims ready rows in outbox_id order up to the clamped
-- limit, skips rows in backoff, dead rows and rows within their lease, recovers lease-expired
-- IN_FLIGHT rows with last_error 'in-flight lease expired', returns attempts after the
-- increment; release hands rows back; pending_count, ready_exists, next_wakeup and stats agree.
BEGIN;
SELECT plan(27);

CREATE TEMP TABLE t_ids AS
SELECT g AS n, 1000 + g AS event_id FROM generate_series(1, 6) AS g;

INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
SELECT 77, t.event_id, 'noetl.commands.shared.77',
       jsonb_build_object('execution_id', 77, 'event_id', t.event_id,
                          'command_id', '77:s:' || t.event_id, 'step', 's',
                          'server_url', 'http://127.0.0.1:8082'),
       t.event_id::text
FROM t_ids AS t ORDER BY t.n;

SELECT is(noetl.outbox_pending_count(60), 6::bigint, 'six fresh rows are pending');
SELECT ok(noetl.outbox_ready_exists(60), 'ready_exists sees them');
SELECT is(noetl.outbox_next_wakeup(60), NULL, 'nothing waits on a timer');

-- claim 2: the two oldest, attempts 1, IN_FLIGHT with a lease clock
SELECT results_eq($$SELECT event_id, attempts, msg_id FROM noetl.outbox_claim(2, 60) ORDER BY outbox_id$$,
                  $$VALUES (1001::bigint, 1, '1001'), (1002::bigint, 1, '1002')$$,
                  'claim returns the oldest rows with attempts after the increment and their msg_id');
SELECT is((SELECT count(*) FROM noetl.outbox WHERE status = 'IN_FLIGHT' AND locked_at = now()), 2::bigint,
          'claimed rows are IN_FLIGHT with locked_at = now()');
SELECT is(noetl.outbox_pending_count(60), 4::bigint, 'claimed rows within their lease are not pending');

-- limits are clamped to 1..1000
SELECT is((SELECT count(*) FROM noetl.outbox_claim(0, 60)), 1::bigint, 'a limit below 1 claims one row');
SELECT is((SELECT count(*) FROM noetl.outbox_claim(5000, 60)), 3::bigint, 'a limit above 1000 is clamped, not refused');
SELECT is((SELECT count(*) FROM noetl.outbox_claim(10, 60)), 0::bigint, 'nothing left to claim');

-- mark_failed: backoff from the attempts argument, capped by max delay
SELECT results_eq($$SELECT marked, available_at_in FROM noetl.outbox_mark_failed(
                      (SELECT outbox_id FROM noetl.outbox WHERE event_id = 1001), 'boom', 1, 30, '1001')$$,
                  $$VALUES (true, 1)$$, 'first failure: 1 s');
SELECT is((SELECT (status, last_error, available_at - now(), locked_at IS NULL)::text FROM noetl.outbox WHERE event_id = 1001),
          '(FAILED,boom,00:00:01,t)', 'the failed row waits one second, its lease cleared');
SELECT is((SELECT available_at_in FROM noetl.outbox_mark_failed(0, 'x', 5, 300)), 16, 'attempts 5: 16 s');
SELECT is((SELECT available_at_in FROM noetl.outbox_mark_failed(0, 'x', 9, 300)), 256, 'attempts 9: the 2^8 cap');
SELECT is((SELECT available_at_in FROM noetl.outbox_mark_failed(0, 'x', 40, 300)), 256, 'attempts 40: still 256 s');
SELECT is((SELECT available_at_in FROM noetl.outbox_mark_failed(0, 'x', 5, 10)), 10, 'max delay caps the delay');
SELECT is((SELECT available_at_in FROM noetl.outbox_mark_failed(0, 'x', 0, 0)), 1, 'attempts 0 and max delay 0 are clamped');
SELECT is((SELECT marked FROM noetl.outbox_mark_failed(0, 'x', 1, 30)), false, 'no such row: marked false');
SELECT is((SELECT marked FROM noetl.outbox_mark_failed(
              (SELECT outbox_id FROM noetl.outbox WHERE event_id = 1002), 'late', 1, 30, '1002-r1')), false,
          'a different msg_id leaves the row alone');
SELECT ok(noetl.outbox_next_wakeup(60) = now() + interval '1 second', 'next wakeup is the end of the backoff');

-- lease recovery: pretend the lease of 1003 started two minutes ago
UPDATE noetl.outbox SET locked_at = now() - interval '2 minutes' WHERE event_id = 1003;
SELECT is(noetl.outbox_pending_count(60), 1::bigint, 'a lease-expired row counts as pending');
SELECT results_eq($$SELECT event_id, attempts FROM noetl.outbox_claim(10, 60)$$,
                  $$VALUES (1003::bigint, 2)$$, 'the expired lease is claimed again, attempts 2');
SELECT is((SELECT last_error FROM noetl.outbox WHERE event_id = 1003), 'in-flight lease expired',
          'a recovered row records why');

-- release: back to PENDING (or FAILED when it carries an error), attempts - 1
SELECT is(noetl.outbox_release(ARRAY(SELECT outbox_id FROM noetl.outbox WHERE event_id IN (1003, 1004))), 2,
          'two in-flight rows released');
SELECT is((SELECT string_agg(status || ':' || attempts, ',' ORDER BY event_id) FROM noetl.outbox WHERE event_id IN (1003, 1004)),
          'FAILED:1,PENDING:0', 'a row with an error goes back FAILED, a clean one PENDING, attempts decremented');
SELECT is(noetl.outbox_release(ARRAY(SELECT outbox_id FROM noetl.outbox WHERE event_id = 1001)), 0,
          'a row that is not IN_FLIGHT is not released');

-- stats: ready 2 (1003, 1004), delayed 1 (1001), in flight 3 (1002, 1005, 1006), dead 0
SELECT results_eq($$SELECT ready, delayed, in_flight, dead FROM noetl.outbox_stats(60)$$,
                  $$VALUES (2::bigint, 1::bigint, 3::bigint, 0::bigint)$$, 'stats count each state');
SELECT is((SELECT oldest_ready_created_at FROM noetl.outbox_stats(60)), now(), 'oldest ready row''s age');

SELECT * FROM finish();
ROLLBACK;
