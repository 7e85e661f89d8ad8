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
SET search_path = ''
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


-- noetl.stream_state(p_execution_id) -> jsonb
--
-- What an event stream needs to know about the execution before reading events:
-- {status, last_seq, terminal_event_id, terminal_seq, terminal_event_type}; NULL when unknown.
-- Read before the events of a poll: everything at or below terminal_seq is committed by then.
CREATE OR REPLACE FUNCTION noetl.stream_state(p_execution_id bigint)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT jsonb_build_object(
               'status', x.status,
               'last_seq', (SELECT max(e.stream_version) FROM noetl.event AS e WHERE e.execution_id = x.execution_id),
               'terminal_event_id', x.terminal_event_id,
               'terminal_seq', t.stream_version,
               'terminal_event_type', t.event_type)
      FROM noetl.execution AS x
      LEFT JOIN noetl.event AS t ON t.execution_id = x.execution_id AND t.event_id = x.terminal_event_id
     WHERE x.execution_id = p_execution_id
$$;
