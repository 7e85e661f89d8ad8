-- Queries of the command routes (sanic_app/routes/commands.py): claim and read a command by
-- the id of its command.issued event. Shard databases, except worker_liveness (cluster).

-- name: has_command
-- Whether this shard holds the command (probe when the id's machine bits name no shard).
SELECT execution_id FROM noetl.command WHERE command_id = %(command_id)s LIMIT 1;

-- name: claim
-- Claims a command (noetl.claim_command; steal_from set for a takeover) and reads the render rules of its tool from the execution's plan.
-- One statement, run in autocommit: the lock wait is bounded inside it (the lateral claim depends on
-- the bound, so set_config runs first; `true` keeps it to this statement's own transaction).
SELECT r.result,
       x.plan -> 'steps' -> (r.result ->> 'node_name') -> 'tool' -> 'form' AS tool_form,
       x.plan -> 'steps' -> (r.result ->> 'node_name') -> 'tool' -> 'verbatim' AS verbatim,
       x.plan -> 'steps' -> (r.result ->> 'node_name') -> 'tool' -> 'deferred' AS deferred
FROM (SELECT pg_catalog.set_config('lock_timeout', %(lock_timeout_ms)s, true) AS applied) AS bound
CROSS JOIN LATERAL (SELECT noetl.claim_command(%(command_id)s, %(worker_id)s, %(steal_from)s, %(meta)s) AS result
                    WHERE bound.applied IS NOT NULL) AS r
LEFT JOIN noetl.execution AS x
  ON r.result ? 'node_name' AND x.execution_id = (r.result ->> 'execution_id')::bigint;

-- name: get
-- The claim view of a command without side effects (noetl.get_command) and the render rules of its tool.
SELECT r.result,
       x.plan -> 'steps' -> (r.result ->> 'node_name') -> 'tool' -> 'form' AS tool_form,
       x.plan -> 'steps' -> (r.result ->> 'node_name') -> 'tool' -> 'verbatim' AS verbatim,
       x.plan -> 'steps' -> (r.result ->> 'node_name') -> 'tool' -> 'deferred' AS deferred
FROM (SELECT noetl.get_command(%(command_id)s) AS result) AS r
LEFT JOIN noetl.execution AS x ON x.execution_id = (r.result ->> 'execution_id')::bigint
WHERE r.result IS NOT NULL;

-- name: worker_liveness
-- The holder's worker-pool row: whether it is ready with a heartbeat younger than the stale limit (cluster database).
SELECT status, heartbeat, (status = 'ready' AND heartbeat > now() - make_interval(secs => %(stale_seconds)s)) AS live
FROM noetl.runtime
WHERE kind = 'worker_pool' AND name = %(name)s;
