-- Reading an execution's event log in commit order (data-model.md §9.1 execution_events,
-- event_position; http-api.md §1.12, §2.7.2, §2.7.4, §5).
--
-- Every read orders by stream_version (the API's `seq`), which is assigned under the execution's
-- row lock, so events of one execution become visible in that order and a reader never sees a
-- gap filled later. Resuming is by position, never by id value: ids minted by different
-- producers do not sort in commit order. All functions here are read-only and take no locks.


-- noetl.event_position(p_execution_id, p_event_id) -> bigint
--
-- The stream_version of one event of the execution; NULL when the event is not one of its
-- events (unknown id, another execution's id, or a row without a position).
CREATE OR REPLACE FUNCTION noetl.event_position(p_execution_id bigint, p_event_id bigint)
RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT e.stream_version FROM noetl.event AS e
     WHERE e.execution_id = p_execution_id AND e.event_id = p_event_id
$$;


-- noetl.execution_events(p_execution_id, p_after_version DEFAULT 0, p_limit DEFAULT 100,
--                        p_event_types DEFAULT NULL, p_newest_first DEFAULT false,
--                        p_offset DEFAULT 0, p_after_event_id DEFAULT NULL) -> SETOF noetl.event
--
-- The execution's events with stream_version > p_after_version, in stream_version order
-- (descending when p_newest_first), restricted to p_event_types when given, skipping p_offset
-- rows, at most p_limit rows (NULL: no limit). p_after_event_id is the fallback of
-- `since_event_id` for an id that is not an event of the execution: keep events whose id is
-- numerically greater. Uses event_stream_uidx (execution_id, stream_version).
--
-- No SET search_path (every name is schema-qualified or a built-in operator): a SQL function
-- with a SET clause is never inlined, so the planner re-planned this body on every call, over
-- every partition of noetl.event (~0.9 ms for an empty read on the development machine). Inlined,
-- the caller's query prunes partitions with the argument and the read costs ~0.5 ms.
CREATE OR REPLACE FUNCTION noetl.execution_events(
    p_execution_id   bigint,
    p_after_version  bigint  DEFAULT 0,
    p_limit          integer DEFAULT 100,
    p_event_types    text[]  DEFAULT NULL,
    p_newest_first   boolean DEFAULT false,
    p_offset         integer DEFAULT 0,
    p_after_event_id bigint  DEFAULT NULL
)
RETURNS SETOF noetl.event
LANGUAGE sql
STABLE
AS $$
    SELECT e.* FROM noetl.event AS e
     WHERE e.execution_id = p_execution_id
       AND e.stream_version > coalesce(p_after_version, 0)
       AND (p_event_types IS NULL OR e.event_type = ANY (p_event_types))
       AND (p_after_event_id IS NULL OR e.event_id > p_after_event_id)
     ORDER BY CASE WHEN p_newest_first THEN -e.stream_version ELSE e.stream_version END
    OFFSET greatest(coalesce(p_offset, 0), 0)
     LIMIT p_limit
$$;


-- noetl.execution_event_count(p_execution_id, p_after_version DEFAULT 0, p_event_types DEFAULT NULL,
--                             p_after_event_id DEFAULT NULL) -> bigint
--
-- How many rows execution_events returns without offset and limit (the pages' total_events).
CREATE OR REPLACE FUNCTION noetl.execution_event_count(
    p_execution_id   bigint,
    p_after_version  bigint DEFAULT 0,
    p_event_types    text[] DEFAULT NULL,
    p_after_event_id bigint DEFAULT NULL
)
RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT count(*) FROM noetl.event AS e
     WHERE e.execution_id = p_execution_id
       AND e.stream_version > coalesce(p_after_version, 0)
       AND (p_event_types IS NULL OR e.event_type = ANY (p_event_types))
       AND (p_after_event_id IS NULL OR e.event_id > p_after_event_id)
$$;


-- noetl.stream_head(p_execution_id) -> TABLE (status, last_seq, terminal_event_id, terminal_seq,
--                                            terminal_event_type)
--
-- What an event stream needs to know about the execution before reading events; no row when
-- unknown. last_seq is execution.event_count: positions are assigned from that counter in the
-- transaction that inserts the event, under the execution's row lock, so in any snapshot the
-- counter equals the highest visible stream_version (no scan of the event log). The terminal
-- event is looked up only once the execution has one. Read before the events of a poll:
-- everything at or below terminal_seq is committed by then.
--
-- PL/pgSQL on a generic plan, not an inlinable SQL function: inlined into the caller's prepared
-- statement, the join to the partitioned event table made the plan cache prefer a custom plan,
-- so every SSE poll planned it again (~0.6 ms of planning for a primary-key read).
CREATE OR REPLACE FUNCTION noetl.stream_head(p_execution_id bigint)
RETURNS TABLE (status varchar, last_seq bigint, terminal_event_id bigint, terminal_seq bigint,
               terminal_event_type varchar)
LANGUAGE plpgsql
STABLE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    SELECT x.status, x.event_count, x.terminal_event_id, t.stream_version, t.event_type
      FROM noetl.execution AS x
      LEFT JOIN noetl.event AS t
        ON x.terminal_event_id IS NOT NULL
       AND t.execution_id = x.execution_id AND t.event_id = x.terminal_event_id
     WHERE x.execution_id = p_execution_id;
END;
$$;


-- noetl.stream_events(p_execution_id, p_after_version, p_limit) -> SETOF noetl.event
--
-- The read of one SSE poll: the execution's events with stream_version > p_after_version, in
-- stream_version order, at most p_limit rows. execution_events with its defaults, on a generic
-- plan: inlined, its optional filters and its ordering by a CASE make a custom plan look
-- cheaper, and each poll was planned again; here the one shape of a poll is planned once per
-- connection.
CREATE OR REPLACE FUNCTION noetl.stream_events(p_execution_id bigint, p_after_version bigint, p_limit integer)
RETURNS SETOF noetl.event
LANGUAGE plpgsql
STABLE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    SELECT e.* FROM noetl.event AS e
     WHERE e.execution_id = p_execution_id
       AND e.stream_version > coalesce(p_after_version, 0)
     ORDER BY e.stream_version
     LIMIT p_limit;
END;
$$;


-- noetl.stream_state(p_execution_id) -> jsonb
--
-- noetl.stream_head as one object {status, last_seq, terminal_event_id, terminal_seq,
-- terminal_event_type}; NULL when the execution is unknown.
CREATE OR REPLACE FUNCTION noetl.stream_state(p_execution_id bigint)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT pg_catalog.to_jsonb(h) FROM noetl.stream_head(p_execution_id) AS h
$$;
