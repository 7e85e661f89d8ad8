-- Queries of the worker-pool and health routes (sanic_app/routes/workers.py, health.py,
-- dashboard.py). Cluster database.

-- name: register
-- Upserts one runtime registration on (kind, name) (noetl.runtime_register).
SELECT runtime_id, name, kind, uri, status, labels, capabilities, capacity, runtime, heartbeat,
       created_at, updated_at
FROM noetl.runtime_register(%(kind)s, %(name)s, %(uri)s, %(status)s, %(labels)s, %(capabilities)s,
                            %(capacity)s, %(runtime)s);

-- name: heartbeat
-- Refreshes one registration; no row when it was never registered (noetl.runtime_heartbeat).
SELECT runtime_id, name, kind FROM noetl.runtime_heartbeat(%(kind)s, %(name)s);

-- name: deregister
-- Marks one registration offline; whether it existed (noetl.runtime_deregister).
SELECT noetl.runtime_deregister(%(kind)s, %(name)s) AS found;

-- name: list
-- Registrations filtered by kind, status, name substring and runtime type, by kind then name.
SELECT runtime_id, name, kind, uri, status, labels, capabilities, capacity, runtime, heartbeat,
       created_at, updated_at
FROM noetl.runtime_list(%(kind)s, %(status)s, %(name)s, %(runtime)s);

-- name: bridge_state
-- The freshest broker registration and its heartbeat age in seconds (health).
SELECT status, extract(epoch FROM now() - heartbeat) AS age_seconds
FROM noetl.runtime
WHERE kind = 'broker'
ORDER BY heartbeat DESC
LIMIT 1;

-- name: ready_worker
-- Whether a worker pool of this name is registered and ready (status route's redact=false).
SELECT EXISTS (SELECT 1 FROM noetl.runtime
               WHERE kind = 'worker_pool' AND name = %(name)s AND status IN ('ready', 'active')) AS ready;

-- name: live_workers
-- Ready worker pools with a heartbeat younger than the stale limit (dashboard).
SELECT count(*) AS workers
FROM noetl.runtime
WHERE kind = 'worker_pool' AND status IN ('ready', 'active')
  AND heartbeat > now() - make_interval(secs => %(stale_seconds)s);

-- name: playbook_count
-- Distinct catalog paths of kind playbook (dashboard).
SELECT count(DISTINCT path) AS playbooks FROM noetl.catalog WHERE kind = 'playbook';
