-- Queries of the batch ingest route (sanic_app/routes/events.py). The execution's owning shard.

-- name: apply_batch
-- Applies a batch atomically under one lock of the execution (noetl.apply_events); {request_id, event_ids, commands_generated, duplicate}.
SELECT noetl.apply_events(%(execution_id)s, %(events)s, %(idempotency_key)s, %(worker_id)s) AS result;

-- name: command_holder
-- The state of a command whose command.claimed item was refused in a batch (the 409's detail).
SELECT c.status, c.worker_id, c.claimed_at, x.status AS execution_status
FROM noetl.command AS c
JOIN noetl.execution AS x ON x.execution_id = c.execution_id
WHERE c.execution_id = %(execution_id)s AND c.command_id = %(command_id)s;
