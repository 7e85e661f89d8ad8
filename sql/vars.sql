-- Queries of the vars routes (sanic_app/routes/vars.py). The execution's owning shard.

-- name: set
-- Upserts one group of variables sharing a type and source step (noetl.vars_set); the count.
SELECT noetl.vars_set(%(execution_id)s, %(vars)s, %(var_type)s, %(source_step)s) AS count;

-- name: list
-- Every variable of the execution by name, without bumping access counters (noetl.vars_list).
SELECT var_name, var_type, var_value, source_step, created_at, accessed_at, access_count
FROM noetl.vars_list(%(execution_id)s);

-- name: get
-- One variable with its access counters bumped (noetl.vars_get); no row when absent.
SELECT var_name, var_type, var_value, source_step, created_at, accessed_at, access_count
FROM noetl.vars_get(%(execution_id)s, %(name)s);

-- name: delete
-- Deletes one variable, or all of them when name is NULL (noetl.vars_delete); the count.
SELECT noetl.vars_delete(%(execution_id)s, %(name)s::text) AS count;
