-- Queries of the execution-keyed routes (sanic_app/routes/*) that read the execution projection.
-- Shard databases: always the execution's owning shard, or every shard for lists.

-- name: catalog_of_execution
-- The catalog entry and parent of one execution (credential keychain fallback).
SELECT catalog_id, parent_execution_id FROM noetl.execution WHERE execution_id = %(execution_id)s;

-- name: status_counts
-- Execution counts by projection status on one shard (dashboard stats).
SELECT count(*) AS total,
       count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
       count(*) FILTER (WHERE status = 'FAILED') AS failed,
       count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
       count(*) FILTER (WHERE status = 'RUNNING') AS running
FROM noetl.execution;

-- name: list
-- One shard's newest executions matching the list filters; the app merges the shards.
SELECT execution_id, catalog_id, parent_execution_id, path, version, kind, status, start_time,
       end_time, error, event_count
FROM noetl.execution
WHERE (%(catalog_id)s::bigint IS NULL OR catalog_id = %(catalog_id)s::bigint)
  AND (%(path)s::text IS NULL OR strpos(lower(path), lower(%(path)s::text)) > 0)
  AND (%(status)s::text IS NULL OR status = %(status)s::text)
  AND (%(parent_execution_id)s::bigint IS NULL OR parent_execution_id = %(parent_execution_id)s::bigint)
ORDER BY start_time DESC NULLS LAST, execution_id DESC
LIMIT %(limit)s;

-- name: cancellation_check
-- Status and newest event type of one execution (GET .../cancellation-check); no row when unknown.
SELECT execution_id, status, last_event_type FROM noetl.execution WHERE execution_id = %(execution_id)s;

-- name: finalize
-- Forces a RUNNING execution to COMPLETED or FAILED (noetl.finalize_execution); NE404 when unknown.
SELECT noetl.finalize_execution(%(execution_id)s, %(status)s, %(error)s, %(reason)s) AS result;

-- name: detail
-- The execution projection fields of the detail and events routes; no row when unknown.
SELECT execution_id, catalog_id, parent_execution_id, path, version, kind, status, start_time, end_time,
       error, event_count, workload
FROM noetl.execution WHERE execution_id = %(execution_id)s;

-- name: event_position
-- The seq of an event of this execution, NULL when it is not one (noetl.event_position).
SELECT noetl.event_position(%(execution_id)s, %(event_id)s) AS position;

-- name: event_count
-- How many events a page read would walk without paging (noetl.execution_event_count).
SELECT noetl.execution_event_count(%(execution_id)s, %(after)s, %(types)s::text[], %(after_event_id)s) AS total;

-- name: events
-- One page or poll of the execution's events in seq order (noetl.execution_events), as event-item columns.
SELECT e.execution_id, e.event_id, e.stream_version AS seq, e.event_type, e.node_id, e.node_name, e.node_type,
       e.status, e.created_at, e.context, e.result, e.meta, e.error, e.worker_id, e.catalog_id,
       e.parent_execution_id, e.parent_event_id, e.duration
FROM noetl.execution_events(%(execution_id)s, %(after)s, %(limit)s, %(types)s::text[], %(newest_first)s,
                            %(offset)s, %(after_event_id)s) AS e;

-- name: stream_events
-- One SSE poll: the events after a position in seq order (noetl.stream_events), as event-item columns.
SELECT e.execution_id, e.event_id, e.stream_version AS seq, e.event_type, e.node_id, e.node_name, e.node_type,
       e.status, e.created_at, e.context, e.result, e.meta, e.error, e.worker_id, e.catalog_id,
       e.parent_execution_id, e.parent_event_id, e.duration
FROM noetl.stream_events(%(execution_id)s, %(after)s, %(limit)s) AS e;

-- name: stream_events_without_payload
-- As stream_events, with context, result and meta left out (NULL): include_payload=false reads no JSON.
SELECT e.execution_id, e.event_id, e.stream_version AS seq, e.event_type, e.node_id, e.node_name, e.node_type,
       e.status, e.created_at, NULL::jsonb AS context, NULL::jsonb AS result, NULL::jsonb AS meta, e.error,
       e.worker_id, e.catalog_id, e.parent_execution_id, e.parent_event_id, e.duration
FROM noetl.stream_events(%(execution_id)s, %(after)s, %(limit)s) AS e;

-- name: stream_state
-- Status, last seq and terminal event position of one execution for the event stream (noetl.stream_state).
SELECT noetl.stream_state(%(execution_id)s) AS state;

-- name: stream_head
-- The execution's stream position for SSE (noetl.stream_head): one primary-key read of the execution row.
SELECT status, last_seq, terminal_event_id, terminal_seq, terminal_event_type
FROM noetl.stream_head(%(execution_id)s);
