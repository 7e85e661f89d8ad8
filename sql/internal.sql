-- Queries of the internal API (/api/internal/*, http-api §2.11). The outbox routes run the same
-- functions as the bridge (design decision D9); each query runs on one shard database in one
-- transaction of its own.

-- name: outbox_claim
-- Claims up to `limit` publishable rows on this shard, lease recovery included (data-model §8.3).
SELECT outbox_id, event_id, execution_id, subject, payload, payload_codec, attempts, msg_id
FROM noetl.outbox_claim(%(limit)s, %(lease_seconds)s)
ORDER BY outbox_id;

-- name: outbox_mark_published
-- Marks rows published; the internal API passes no msg_ids, so any existing row is marked.
SELECT noetl.outbox_mark_published(%(outbox_ids)s::bigint[], NULL) AS marked;

-- name: outbox_mark_failed
-- Schedules a retry after min(max_delay, 2^min(8, attempts - 1)) seconds; PUBLISHED rows stay.
SELECT marked, available_at_in
FROM noetl.outbox_mark_failed(%(outbox_id)s, %(error)s, %(attempts)s, %(max_delay_seconds)s, NULL);

-- name: outbox_pending_count
-- Rows claimable now on this shard; the route sums the shards.
SELECT noetl.outbox_pending_count(%(lease_seconds)s) AS pending;

-- name: project_events
-- Imports event envelopes into this shard's log without orchestration (data-model §9.1).
SELECT noetl.project_events(%(events)s) AS result;
