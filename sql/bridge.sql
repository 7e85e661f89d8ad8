-- Queries of the bridge (bridge/) and of /api/internal/outbox/* (the same outbox functions,
-- design decision D9). Each runs on one shard database, in autocommit (one statement, one
-- transaction), unless the caller says otherwise.

-- name: listen
-- Subscribes the signal connection to the gate's channel, once per connection (worker-protocol §2.3.2).
LISTEN noetl_outbox;

-- name: gate_keys
-- The NOTIFY gate key count the trigger reads (database default set by migrate; 1 when unset or invalid).
SELECT CASE WHEN current_setting('noetl.outbox_gate_keys', true) ~ '^[0-9]{1,4}$'
             AND current_setting('noetl.outbox_gate_keys', true)::integer BETWEEN 1 AND 1024
            THEN current_setting('noetl.outbox_gate_keys', true)::integer
            ELSE 1 END AS gate_keys;

-- name: gate_try
-- Tries one gate key exclusively at session level, without waiting: true means no producer holds it.
SELECT pg_try_advisory_lock(1852794228, %(key)s) AS taken;

-- name: gate_release
-- Releases one gate key this session holds exclusively.
SELECT pg_advisory_unlock(1852794228, %(key)s) AS released;

-- name: identity
-- The shard's recorded index, to check that NOETL_SHARDS is in order before serving it.
SELECT shard_index, shard_count FROM noetl.shard_identity();

-- name: claim
-- Claims up to `limit` publishable rows, lease recovery included (data-model §8.3).
SELECT outbox_id, event_id, execution_id, subject, payload, payload_codec, attempts, msg_id
FROM noetl.outbox_claim(%(limit)s, %(lease_seconds)s);

-- name: mark_published
-- Marks acknowledged rows; with msg_ids, only rows still carrying the published msg_id.
SELECT noetl.outbox_mark_published(%(outbox_ids)s::bigint[], %(msg_ids)s::text[]) AS marked;

-- name: mark_failed
-- Schedules a retry with the spec's backoff; never downgrades PUBLISHED, guarded by msg_id when given.
SELECT marked, available_at_in
FROM noetl.outbox_mark_failed(%(outbox_id)s, %(error)s, %(attempts)s, %(max_delay_seconds)s, %(msg_id)s);

-- name: mark_dead
-- Marks a row that can never be published (malformed payload, too large): never claimed again.
SELECT noetl.outbox_mark_dead(%(outbox_id)s, %(error)s) AS marked;

-- name: release
-- Hands back rows claimed but not published (shutdown); they are claimable again at once.
SELECT noetl.outbox_release(%(outbox_ids)s::bigint[]) AS released;

-- name: pending_count
-- Rows claimable now on this shard (the internal API sums it over shards).
SELECT noetl.outbox_pending_count(%(lease_seconds)s) AS pending;

-- name: park_check
-- The re-check after taking the gate and before parking (ready rows?), with the seconds until the earliest backoff or lease ends (NULL when none) for the parked wait.
SELECT noetl.outbox_ready_exists(%(lease_seconds)s) AS ready,
       extract(epoch FROM noetl.outbox_next_wakeup(%(lease_seconds)s) - clock_timestamp())::float8 AS seconds;

-- name: stats
-- Health and metrics counts, with the age of the oldest claimable row in seconds.
SELECT ready, delayed, in_flight, dead,
       extract(epoch FROM clock_timestamp() - oldest_ready_created_at)::float8 AS oldest_ready_age_seconds
FROM noetl.outbox_stats(%(lease_seconds)s);

-- name: purge
-- Deletes old published rows (retention), a bounded number per call.
SELECT noetl.outbox_purge(%(retention_seconds)s, %(limit)s) AS purged;

-- name: stale_commands
-- Requeue sweep candidates: stale claims and pending commands (data-model §9.1), with the database clock.
SELECT s.execution_id, s.command_id, s.status, s.worker_id, s.claimed_at, s.heartbeat_at,
       s.updated_at, s.timeout_seconds, s.outbox_status, s.published_at, s.republished,
       now() AS db_now
FROM noetl.stale_commands(now() - make_interval(secs => %(claim_lease_seconds)s),
                          now() - make_interval(secs => %(republish_seconds)s),
                          %(limit)s) AS s;

-- name: requeue_command
-- Re-arms one command's notification with a new msg_id (and puts a stale claim back to PENDING).
SELECT noetl.requeue_command(%(execution_id)s, %(command_id)s, %(reason)s) AS result;

-- name: ping
-- A cheap statement that fails at once on a dead connection (while NATS is down).
SELECT 1;
