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
