-- Event projection: importing event envelopes into one shard's log (data-model.md §9.1
-- project_events, http-api.md §2.11.5). Callers are projector playbooks, replays and validation
-- harnesses through POST /api/internal/events/project; the app groups the envelopes by owning
-- shard and calls noetl.project_events once per shard.
--
-- A projected event is a log row and nothing more: it never changes the execution projection,
-- the step-state projection or commands, and never triggers an orchestration pass. For an
-- execution this shard knows, the row takes the execution's catalog_id and the next gap-free
-- position (stream_version, the `seq` of the read routes), so readers see it in order; the
-- position counter (execution.event_count) is the only column of the execution row touched. For
-- an execution this shard does not know, the row is stored only with a real, non-zero catalog_id
-- from the envelope, without a position, and no execution row is created.
--
-- Each envelope is judged on its own: a bad one is reported in `rejected` and the rest are
-- stored. An (execution_id, event_id) pair already in the log, or repeated inside the batch, is
-- a duplicate and changes nothing, so a re-sent batch answers projected 0.


-- noetl.project_event_id(p_value jsonb) -> bigint
--
-- An id as the HTTP layer accepts it (http-api.md §1.6): a JSON integer, or a string of decimal
-- digits with an optional leading '-', within the signed 64-bit range. NULL for anything else
-- (fractions, exponents, empty strings, booleans, out-of-range values), never an error.
CREATE OR REPLACE FUNCTION noetl.project_event_id(p_value jsonb)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT CASE WHEN t.digits ~ '^-?[0-9]{1,19}$'
                 AND t.digits::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
                THEN t.digits::bigint END
      FROM (SELECT CASE jsonb_typeof(p_value)
                       WHEN 'number' THEN p_value::text
                       WHEN 'string' THEN btrim(p_value #>> '{}')
                   END AS digits) AS t
$$;


-- noetl.project_event_time(p_value jsonb) -> timestamptz
--
-- An RFC 3339 / ISO 8601 date-time string (`T` or space, 0-9 fractional digits, `Z` or a numeric
-- offset; without an offset the value is UTC, whatever the session's time zone). NULL when the
-- value is not a string or does not parse; never an error, so one bad envelope cannot fail a batch.
CREATE OR REPLACE FUNCTION noetl.project_event_time(p_value jsonb)
RETURNS timestamptz
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
    v_text text := CASE WHEN jsonb_typeof(p_value) = 'string' THEN btrim(p_value #>> '{}') END;
BEGIN
    IF v_text IS NULL
       OR v_text !~ '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}(:?\d{2})?)?$' THEN
        RETURN NULL;
    END IF;
    IF v_text ~ '([Zz]|[+-]\d{2}(:?\d{2})?)$' THEN
        RETURN v_text::timestamptz;
    END IF;
    RETURN v_text::timestamp AT TIME ZONE 'UTC';
EXCEPTION
    WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_time_zone_displacement_value THEN
        RETURN NULL;
END;
$$;


-- noetl.project_events(p_events jsonb) -> jsonb {projected, duplicates, rejected: [{index, reason}]}
--
-- p_events is a JSON array of envelopes (anything else raises NE422). Each envelope needs an
-- event_id, an execution_id and a non-empty event_type; optional keys are catalog_id,
-- parent_event_id, parent_execution_id, node_id, node_name, node_type, status (normalised as for
-- ingest), duration, timestamp or created_at (in that order; else the clock), context, result,
-- meta, error, stack_trace, trace_component, tenant_id and organization_id (both default
-- 'default'). `index` in `rejected` is the envelope's position in p_events.
--
-- Locks: the execution rows of the known executions, in ascending execution_id order (the
-- multi-execution rule of data-model.md §9.0), held to the end of the caller's transaction. A
-- repeat call changes nothing and answers projected 0 with every valid envelope a duplicate.
CREATE OR REPLACE FUNCTION noetl.project_events(p_events jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_result jsonb;
BEGIN
    -- guard: one array of envelopes
    IF p_events IS NULL OR jsonb_typeof(p_events) <> 'array' THEN
        RAISE EXCEPTION 'project_events expects a JSON array of events, got %',
              coalesce(jsonb_typeof(p_events), 'NULL') USING ERRCODE = 'NE422';
    END IF;

    -- locks: known executions, ascending, so concurrent projections cannot deadlock
    PERFORM 1
       FROM noetl.execution AS x
      WHERE x.execution_id IN (
                SELECT noetl.project_event_id(e.item -> 'execution_id')
                  FROM jsonb_array_elements(p_events) AS e(item)
                 WHERE jsonb_typeof(e.item) = 'object')
      ORDER BY x.execution_id
        FOR NO KEY UPDATE;

    -- effects: validate each envelope, store the new ones, advance the positions
    WITH parsed AS (
        SELECT e.ord - 1 AS idx,
               e.item,
               jsonb_typeof(e.item) = 'object' AS is_object,
               noetl.project_event_id(e.item -> 'event_id') AS event_id,
               noetl.project_event_id(e.item -> 'execution_id') AS execution_id,
               noetl.project_event_id(e.item -> 'catalog_id') AS catalog_id,
               CASE WHEN jsonb_typeof(e.item -> 'event_type') = 'string'
                    THEN nullif(btrim(e.item ->> 'event_type'), '') END AS event_type,
               coalesce(nullif(e.item -> 'timestamp', 'null'::jsonb),
                        nullif(e.item -> 'created_at', 'null'::jsonb)) AS sent_time,
               nullif(e.item -> 'result', 'null'::jsonb) AS result
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(item, ord)
    ),
    checked AS (
        SELECT p.*,
               x.execution_id IS NOT NULL AS known,
               x.catalog_id AS known_catalog_id,
               x.parent_execution_id AS known_parent_execution_id,
               x.event_count,
               CASE
                   WHEN NOT p.is_object THEN 'the event must be a JSON object'
                   WHEN p.event_id IS NULL THEN 'event_id is missing or not a signed 64-bit integer'
                   WHEN p.execution_id IS NULL THEN 'execution_id is missing or not a signed 64-bit integer'
                   WHEN p.event_type IS NULL THEN 'event_type is missing or not a non-empty string'
                   WHEN p.result IS NOT NULL AND NOT (
                            jsonb_typeof(p.result) = 'object'
                            AND jsonb_typeof(p.result -> 'status') IS NOT DISTINCT FROM 'string'
                            AND (p.result - ARRAY['status', 'reference', 'context']) = '{}'::jsonb
                            AND (NOT (p.result ? 'reference') OR jsonb_typeof(p.result -> 'reference') = 'object')
                            AND (NOT (p.result ? 'context') OR jsonb_typeof(p.result -> 'context') = 'object'))
                       THEN 'result must be an object with a string status and at most reference and context objects'
                   WHEN p.sent_time IS NOT NULL AND noetl.project_event_time(p.sent_time) IS NULL
                       THEN 'timestamp / created_at is not an RFC 3339 date-time'
                   WHEN x.execution_id IS NULL AND coalesce(p.catalog_id, 0) = 0
                       THEN 'catalog_id is required for an execution this shard does not know'
               END AS reason
          FROM parsed AS p
          LEFT JOIN noetl.execution AS x ON x.execution_id = p.execution_id
    ),
    valid AS (
        SELECT c.*,
               row_number() OVER (PARTITION BY c.execution_id, c.event_id ORDER BY c.idx) AS copy
          FROM checked AS c
         WHERE c.reason IS NULL
    ),
    fresh AS (
        SELECT v.*,
               row_number() OVER (PARTITION BY v.execution_id ORDER BY v.idx) AS position
          FROM valid AS v
         WHERE v.copy = 1
           AND NOT EXISTS (SELECT 1 FROM noetl.event AS ev
                            WHERE ev.execution_id = v.execution_id AND ev.event_id = v.event_id)
    ),
    inserted AS (
        INSERT INTO noetl.event (
            execution_id, catalog_id, event_id, parent_event_id, parent_execution_id,
            created_at, event_time, event_type, node_id, node_name, node_type, status, duration,
            context, result, meta, error, stack_trace, trace_component, worker_id,
            tenant_id, organization_id, stream_version, producer)
        SELECT f.execution_id,
               CASE WHEN f.known THEN f.known_catalog_id ELSE f.catalog_id END,
               f.event_id,
               noetl.project_event_id(f.item -> 'parent_event_id'),
               coalesce(noetl.project_event_id(f.item -> 'parent_execution_id'), f.known_parent_execution_id),
               coalesce(noetl.project_event_time(f.sent_time), clock_timestamp()),
               coalesce(noetl.project_event_time(f.sent_time), clock_timestamp()),
               f.event_type,
               coalesce(f.item ->> 'node_id', f.item ->> 'node_name'),
               f.item ->> 'node_name',
               f.item ->> 'node_type',
               noetl.normalize_event_status(f.item ->> 'status', f.event_type),
               CASE WHEN jsonb_typeof(f.item -> 'duration') = 'number'
                         AND abs((f.item -> 'duration')::numeric) < 1e300
                    THEN (f.item -> 'duration')::numeric::float8 END,
               nullif(f.item -> 'context', 'null'::jsonb),
               f.result,
               nullif(f.item -> 'meta', 'null'::jsonb),
               f.item ->> 'error',
               f.item ->> 'stack_trace',
               nullif(f.item -> 'trace_component', 'null'::jsonb),
               f.item ->> 'worker_id',
               coalesce(nullif(btrim(f.item ->> 'tenant_id'), ''), 'default'),
               coalesce(nullif(btrim(f.item ->> 'organization_id'), ''), 'default'),
               CASE WHEN f.known THEN f.event_count + f.position END,
               'projection'
          FROM fresh AS f
        -- a concurrent projection of the same envelope for an unknown execution (no lock to share)
        ON CONFLICT (execution_id, event_id) DO NOTHING
        RETURNING execution_id
    ),
    -- (a data-modifying CTE runs to completion whether or not the final SELECT reads it)
    advanced AS (
        UPDATE noetl.execution AS x
           SET event_count = x.event_count + n.added
          FROM (SELECT f.execution_id, count(*) AS added FROM fresh AS f WHERE f.known
                 GROUP BY f.execution_id) AS n
         WHERE x.execution_id = n.execution_id
        RETURNING x.execution_id
    )
    SELECT jsonb_build_object(
               'projected', (SELECT count(*) FROM inserted),
               'duplicates', (SELECT count(*) FROM valid) - (SELECT count(*) FROM inserted),
               'rejected', coalesce((SELECT jsonb_agg(jsonb_build_object('index', c.idx, 'reason', c.reason)
                                                      ORDER BY c.idx)
                                       FROM checked AS c WHERE c.reason IS NOT NULL), '[]'::jsonb))
      INTO v_result;
    RETURN v_result;
END;
$$;
