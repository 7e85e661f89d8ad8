-- Execution variables in noetl.transient (data-model.md §2.11, §9.1 vars_*; http-api.md §2.8).
--
-- The vars API may write variables for an execution id this shard does not know (the
-- reference allowed it), so these functions lock the execution row only when it exists; when
-- it does, the lock serialises them with ingest and the passes that write `set:` variables.
-- Lock order: execution row, then transient rows.


-- noetl.vars_set(p_execution_id, p_vars jsonb, p_var_type DEFAULT 'user_defined',
--                p_source_step DEFAULT NULL) -> integer
--
-- Upserts every key of the p_vars object on (execution_id, var_name): value, type and source
-- step; created_at and access_count are kept on update. A JSON null value is stored as the JSON
-- literal null. Returns the number of keys. NE422 for a var_type outside the vocabulary, a
-- p_vars that is not an object, or an empty name. Repeating a call gives the same rows.
CREATE OR REPLACE FUNCTION noetl.vars_set(
    p_execution_id bigint,
    p_vars         jsonb,
    p_var_type     text DEFAULT 'user_defined',
    p_source_step  text DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    -- guard: the vocabulary and the shape
    IF p_var_type IS NULL OR p_var_type NOT IN ('user_defined', 'step_result', 'computed', 'iterator_state') THEN
        RAISE EXCEPTION 'var_type must be one of user_defined, step_result, computed, iterator_state; got %',
            coalesce(p_var_type, 'null') USING ERRCODE = 'NE422';
    END IF;
    IF jsonb_typeof(p_vars) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'variables must be a JSON object' USING ERRCODE = 'NE422';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(p_vars) AS k WHERE btrim(k) = '') THEN
        RAISE EXCEPTION 'variable names must not be empty' USING ERRCODE = 'NE422';
    END IF;

    -- locks: the execution row when this shard has it
    PERFORM 1 FROM noetl.execution AS x WHERE x.execution_id = p_execution_id FOR NO KEY UPDATE;

    -- effects
    INSERT INTO noetl.transient AS t (execution_id, var_name, var_type, var_value, source_step)
    SELECT p_execution_id, v.key, p_var_type, v.value, p_source_step
      FROM jsonb_each(p_vars) AS v
    ON CONFLICT (execution_id, var_name) DO UPDATE
       SET var_type = excluded.var_type, var_value = excluded.var_value, source_step = excluded.source_step;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;


-- noetl.vars_list(p_execution_id) -> SETOF noetl.transient
--
-- The execution's variables by name; does not bump access counters. Empty for an unknown id.
CREATE OR REPLACE FUNCTION noetl.vars_list(p_execution_id bigint)
RETURNS SETOF noetl.transient
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT t.* FROM noetl.transient AS t WHERE t.execution_id = p_execution_id ORDER BY t.var_name
$$;


-- noetl.vars_get(p_execution_id, p_name) -> noetl.transient
--
-- One variable, with accessed_at = now() and access_count + 1 (the returned row shows the
-- bumped values); no row when absent.
CREATE OR REPLACE FUNCTION noetl.vars_get(p_execution_id bigint, p_name text)
RETURNS SETOF noetl.transient
LANGUAGE sql
VOLATILE
SET search_path = ''
AS $$
    UPDATE noetl.transient AS t
       SET accessed_at = now(), access_count = t.access_count + 1
     WHERE t.execution_id = p_execution_id AND t.var_name = p_name
    RETURNING t.*
$$;


-- noetl.vars_delete(p_execution_id, p_name DEFAULT NULL) -> integer
--
-- Deletes one variable, or every variable of the execution when p_name is NULL; returns how
-- many rows went (0 when none existed, so a repeat is harmless).
CREATE OR REPLACE FUNCTION noetl.vars_delete(p_execution_id bigint, p_name text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    PERFORM 1 FROM noetl.execution AS x WHERE x.execution_id = p_execution_id FOR NO KEY UPDATE;
    DELETE FROM noetl.transient AS t
     WHERE t.execution_id = p_execution_id AND (p_name IS NULL OR t.var_name = p_name);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
