-- requires: shard
-- noetl.outbox_mark_published with and without the msg_id guard, outbox_mark_dead (never
-- claimed again, not pending, counted dead, not downgraded from PUBLISHED, not revived by
-- mark_failed), outbox_recover and outbox_purge (data-model §8.3).
BEGIN;
SELECT plan(21);

INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
SELECT 88, 2000 + g, 'noetl.commands.shared.88', '{}'::jsonb, (2000 + g)::text
FROM generate_series(1, 5) AS g;
CREATE TEMP TABLE t_claimed AS SELECT * FROM noetl.outbox_claim(10, 60);

SELECT is(noetl.outbox_mark_published(ARRAY[(SELECT outbox_id FROM t_claimed WHERE event_id = 2001),
                                             (SELECT outbox_id FROM t_claimed WHERE event_id = 2002)],
                                       ARRAY['2001', '2002-r1']), 1,
          'only the row whose msg_id still matches is marked');
SELECT is((SELECT string_agg(status, ',' ORDER BY event_id) FROM noetl.outbox WHERE event_id IN (2001, 2002)),
          'PUBLISHED,IN_FLIGHT', 'the mismatched row stays in flight');
SELECT is((SELECT (published_at = now() AND locked_at IS NULL AND last_error IS NULL)
           FROM noetl.outbox WHERE event_id = 2001), true, 'published_at set, lease and error cleared');
SELECT is(noetl.outbox_mark_published(ARRAY[(SELECT outbox_id FROM t_claimed WHERE event_id = 2001),
                                             (SELECT outbox_id FROM t_claimed WHERE event_id = 2001), 42]), 1,
          'no guard: existing rows count once, unknown ids not at all, a re-mark is harmless');
SELECT throws_ok($$SELECT noetl.outbox_mark_published(ARRAY[1, 2]::bigint[], ARRAY['1'])$$, 'NE422', NULL,
                 'arrays of different lengths are refused');
SELECT is((SELECT marked FROM noetl.outbox_mark_failed((SELECT outbox_id FROM t_claimed WHERE event_id = 2001), 'late')),
          false, 'mark_failed never downgrades a PUBLISHED row');

-- a re-armed row (requeue_command) that is published again gets a fresh published_at
UPDATE noetl.outbox SET published_at = now() - interval '1 hour' WHERE event_id = 2001;
SELECT is(noetl.outbox_mark_published(ARRAY[(SELECT outbox_id FROM t_claimed WHERE event_id = 2001)]), 1, 're-mark');
SELECT is((SELECT published_at FROM noetl.outbox WHERE event_id = 2001), now() - interval '1 hour',
          'a re-mark of a PUBLISHED row keeps published_at');
UPDATE noetl.outbox SET status = 'PENDING', msg_id = '2001-r1', republished = 1 WHERE event_id = 2001;
SELECT is(noetl.outbox_mark_published(ARRAY[(SELECT outbox_id FROM t_claimed WHERE event_id = 2001)], ARRAY['2001-r1']), 1,
          'the re-publication of a re-armed row is marked');
SELECT is((SELECT published_at FROM noetl.outbox WHERE event_id = 2001), now(),
          'and records when it went out');

-- dead rows
SELECT ok(noetl.outbox_mark_dead((SELECT outbox_id FROM t_claimed WHERE event_id = 2003), 'payload has no command_id'),
          'mark_dead marks an in-flight row');
SELECT is((SELECT (status, available_at, last_error)::text FROM noetl.outbox WHERE event_id = 2003),
          '(FAILED,infinity,"payload has no command_id")', 'a dead row is FAILED forever with its reason');
SELECT ok(NOT noetl.outbox_mark_dead((SELECT outbox_id FROM t_claimed WHERE event_id = 2001), 'x'),
          'a PUBLISHED row cannot be marked dead');
SELECT is((SELECT marked FROM noetl.outbox_mark_failed((SELECT outbox_id FROM t_claimed WHERE event_id = 2003), 'retry')),
          false, 'mark_failed does not revive a dead row');
SELECT is((SELECT dead FROM noetl.outbox_stats(60)), 1::bigint, 'stats count the dead row');
SELECT is(noetl.outbox_next_wakeup(3600), (SELECT min(locked_at) + interval '1 hour' FROM noetl.outbox WHERE status = 'IN_FLIGHT'),
          'next wakeup ignores dead rows and reports the end of the earliest lease');

-- recover: lease-expired rows back to PENDING
UPDATE noetl.outbox SET locked_at = now() - interval '5 minutes' WHERE event_id IN (2004, 2005);
SELECT is(noetl.outbox_recover(60), 2, 'two expired leases recovered');
SELECT is((SELECT count(*) FROM noetl.outbox WHERE event_id IN (2004, 2005) AND status = 'PENDING' AND locked_at IS NULL),
          2::bigint, 'recovered rows are PENDING without a lease');
SELECT is((SELECT count(*) FROM noetl.outbox_claim(10, 60) WHERE event_id IN (2003)), 0::bigint,
          'a dead row is never claimed');

-- purge: only PUBLISHED rows older than the retention, by id and by publication
INSERT INTO noetl.outbox (outbox_id, execution_id, event_id, subject, payload, msg_id, status, published_at)
VALUES (noetl.snowflake_at(now() - interval '2 hours'), 88, 2100, 's', '{}', '2100', 'PUBLISHED', now() - interval '2 hours'),
       (noetl.snowflake_at(now() - interval '2 hours') + 1, 88, 2101, 's', '{}', '2101-r1', 'PUBLISHED', now()),
       (noetl.snowflake_at(now() - interval '2 hours') + 2, 88, 2102, 's', '{}', '2102', 'PENDING', NULL);
SELECT is(noetl.outbox_purge(3600, 100), 1, 'one old published row purged');
SELECT is((SELECT string_agg(event_id::text, ',' ORDER BY event_id) FROM noetl.outbox WHERE event_id >= 2100),
          '2101,2102', 'a recently re-published row and an unpublished row are kept');

SELECT * FROM finish();
ROLLBACK;
