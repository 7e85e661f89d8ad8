-- Queries of the execution-keyed routes that call the orchestrator (sanic_app/routes/execute.py,
-- commands.py, events.py, executions.py). Cluster database for the catalog, else the owning shard.

-- name: executable
-- The catalog entry an execute request names, with its compiled plan (cluster database).
SELECT c.catalog_id, c.path, c.version, c.kind, c.plan, c.plan_format
FROM noetl.catalog_get(%(catalog_id)s, %(path)s, %(version)s) AS c;

-- name: execute_request
-- Records (parent, Idempotency-Key) -> child execution on the parent's shard; the recorded child.
SELECT noetl.execute_request(%(parent_execution_id)s, %(idempotency_key)s, %(execution_id)s) AS execution_id;

-- name: start
-- Creates the execution, writes playbook_started and runs the start pass (noetl.start_execution).
SELECT noetl.start_execution(%(execution_id)s, %(catalog_id)s, %(path)s, %(version)s, %(kind)s, %(plan)s,
                             %(plan_format)s, %(workload)s, %(env)s, %(parent_execution_id)s,
                             %(server_url)s, %(parent_command_id)s) AS result;

-- name: apply_event
-- Ingests one worker event under the execution lock and orchestrates (noetl.apply_event).
SELECT noetl.apply_event(%(execution_id)s, %(event)s) AS result;

-- name: claim
-- Claims a command by its id on this shard (noetl.claim_command); outcome document.
SELECT noetl.claim_command(%(command_id)s, %(worker_id)s, NULL, %(meta)s) AS result;

-- name: get_command
-- The claim view of a command without side effects, NULL when this shard does not have it.
SELECT noetl.get_command(%(command_id)s) AS result;

-- name: status
-- Status, steps and counts of one execution from its projections (noetl.execution_summary),
-- with the status route's `variables` (noetl.execution_variables), one round trip.
SELECT noetl.execution_summary(%(execution_id)s) AS result,
       noetl.execution_variables(%(execution_id)s) AS variables;

-- name: cancel
-- Cancels one execution (noetl.cancel_execution); NE404 when unknown. parent_cancel_id: the
-- addressed execution's own cancel row, for the descendants of a cascade (NULL on itself).
SELECT noetl.cancel_execution(%(execution_id)s, %(reason)s, %(cascade)s, 'api',
                              %(parent_cancel_id)s::bigint, NULL) AS result;

-- name: children
-- Executions of this shard whose parent is one of the given ids (cascade cancel fan-out).
SELECT execution_id, parent_execution_id, status FROM noetl.child_executions(%(parent_ids)s::bigint[]);
