-- The transactional outbox: claiming, marking and housekeeping (data-model.md §8.3,
-- worker-protocol.md §2.2, §2.5).
--
-- The engine inserts one noetl.outbox row per issued command, in the transaction that issues the
-- command. Publishers (the bridge, and clients of /api/internal/outbox/*) move rows through
--
--     PENDING ──claim──► IN_FLIGHT ──mark_published──► PUBLISHED
--        ▲                  │  │
--        │ release          │  └──mark_failed──► FAILED (available_at = now + backoff) ──claim──► …
--        └──────────────────┘     mark_dead ───► FAILED with available_at = 'infinity' (never again)
--
-- A row is claimable when it is PENDING or FAILED and available (available_at <= now()), or
-- IN_FLIGHT with a lease older than p_lease_seconds (its publisher died or stalled: lease
-- recovery happens inside the claim). A re-published row keeps its msg_id, so JetStream drops the
-- copy when the first publication did go through; only requeue_command (claim.sql) mints a new
-- msg_id, for a deliberate re-publication.
--
-- Locks: these functions lock outbox rows only (never execution or command rows), always with
-- SKIP LOCKED where they choose rows, so two publishers never wait on each other and a claim
-- never waits on ingest. Time is now() (the caller's transaction start), which is what the
-- leases and backoffs are measured against.


-- noetl.outbox_claim(p_limit, p_lease_seconds) -> SETOF (outbox_id, event_id, execution_id,
--     subject, payload, payload_codec, attempts, msg_id)
--
-- Claims up to p_limit rows (clamped to 1..1000): lease-expired IN_FLIGHT rows first (oldest
-- lease first), then ready PENDING/FAILED rows in outbox_id order. Each claimed row becomes
-- IN_FLIGHT with attempts + 1 and locked_at = now(); a lease-recovered row also records
-- last_error 'in-flight lease expired'. Returns the claimed rows with attempts after the
-- increment; the order of the returned rows is not specified. Never blocks on a row another
-- claimer holds (SKIP LOCKED). Two statements, each using its own partial index: an OR of both
-- predicates would lose the ordered scan of outbox_ready_idx.
CREATE OR REPLACE FUNCTION noetl.outbox_claim(p_limit integer, p_lease_seconds integer DEFAULT 60)
RETURNS TABLE (outbox_id bigint, event_id bigint, execution_id bigint, subject text,
               payload jsonb, payload_codec text, attempts integer, msg_id text)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
#variable_conflict use_column
DECLARE
    v_limit     integer := least(greatest(coalesce(p_limit, 1), 1), 1000);
    v_lease     interval := make_interval(secs => greatest(coalesce(p_lease_seconds, 60), 0));
    v_recovered integer;
BEGIN
    -- effect: lease recovery, rows whose publisher stopped between claim and mark
    RETURN QUERY
    UPDATE noetl.outbox AS o
       SET status = 'IN_FLIGHT',
           attempts = o.attempts + 1,
           locked_at = now(),
           updated_at = now(),
           last_error = 'in-flight lease expired'
      FROM (SELECT s.outbox_id
              FROM noetl.outbox AS s
             WHERE s.status = 'IN_FLIGHT' AND s.locked_at < now() - v_lease
             ORDER BY s.locked_at
             LIMIT v_limit
               FOR UPDATE SKIP LOCKED) AS picked
     WHERE o.outbox_id = picked.outbox_id
    RETURNING o.outbox_id, o.event_id, o.execution_id, o.subject, o.payload, o.payload_codec,
              o.attempts, o.msg_id;
    GET DIAGNOSTICS v_recovered = ROW_COUNT;

    IF v_recovered >= v_limit THEN
        RETURN;
    END IF;

    -- effect: ready rows, oldest first
    RETURN QUERY
    UPDATE noetl.outbox AS o
       SET status = 'IN_FLIGHT',
           attempts = o.attempts + 1,
           locked_at = now(),
           updated_at = now()
      FROM (SELECT s.outbox_id
              FROM noetl.outbox AS s
             WHERE s.status IN ('PENDING', 'FAILED') AND s.available_at <= now()
             ORDER BY s.outbox_id
             LIMIT v_limit - v_recovered
               FOR UPDATE SKIP LOCKED) AS picked
     WHERE o.outbox_id = picked.outbox_id
    RETURNING o.outbox_id, o.event_id, o.execution_id, o.subject, o.payload, o.payload_codec,
              o.attempts, o.msg_id;
END;
$$;


-- noetl.outbox_mark_published(p_outbox_ids bigint[], p_msg_ids text[] DEFAULT NULL) -> integer
--
-- Marks the listed rows PUBLISHED, last_error and locked_at cleared. published_at is the time of
-- the latest publication: set when a row that is not PUBLISHED is marked (a first publication,
-- or a re-publication after requeue_command re-armed the row, whose spacing the requeue sweep
-- measures from it), kept when an already PUBLISHED row is marked again. With p_msg_ids (element-wise with p_outbox_ids; the bridge always passes
-- it) a row is marked only while its msg_id is still the one that was published, so a late mark
-- never covers a newer, deliberate re-publication of the same row. The internal API passes NULL.
-- Returns the number of rows matched; marking again is harmless (only updated_at moves).
-- Duplicate ids count once.
CREATE OR REPLACE FUNCTION noetl.outbox_mark_published(p_outbox_ids bigint[], p_msg_ids text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    -- guard: the two arrays must pair up
    IF p_msg_ids IS NOT NULL
       AND coalesce(pg_catalog.cardinality(p_msg_ids), 0) <> coalesce(pg_catalog.cardinality(p_outbox_ids), 0) THEN
        RAISE EXCEPTION 'outbox_mark_published: % outbox ids but % msg ids',
            coalesce(pg_catalog.cardinality(p_outbox_ids), 0), pg_catalog.cardinality(p_msg_ids)
            USING ERRCODE = 'NE422';
    END IF;

    -- effect
    UPDATE noetl.outbox AS o
       SET status = 'PUBLISHED',
           published_at = CASE WHEN o.status = 'PUBLISHED' THEN coalesce(o.published_at, now()) ELSE now() END,
           last_error = NULL,
           locked_at = NULL,
           updated_at = now()
      FROM (SELECT DISTINCT u.outbox_id, u.msg_id
              FROM ROWS FROM (pg_catalog.unnest(p_outbox_ids), pg_catalog.unnest(p_msg_ids)) AS u (outbox_id, msg_id)
             WHERE u.outbox_id IS NOT NULL) AS m
     WHERE o.outbox_id = m.outbox_id
       AND (p_msg_ids IS NULL OR o.msg_id = m.msg_id);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;


-- noetl.outbox_mark_failed(p_outbox_id, p_error, p_attempts DEFAULT 1,
--     p_max_delay_seconds DEFAULT 300, p_msg_id DEFAULT NULL) -> (marked boolean, available_at_in integer)
--
-- Schedules a retry after a failed publish:
--     delay = min(p_max_delay_seconds, 2 ^ min(8, max(0, p_attempts - 1)))   whole seconds
-- with p_max_delay_seconds clamped to >= 1 and p_attempts to >= 0. Sets FAILED,
-- available_at = now() + delay, last_error (first 2000 characters), clears locked_at.
-- Leaves unchanged (marked = false): a PUBLISHED row; a row whose msg_id differs from a given
-- p_msg_id (it was re-armed meanwhile); a dead row (a row that can never be published stays
-- dead; only an operator revives it). available_at_in is the delay whether or not a row changed.
CREATE OR REPLACE FUNCTION noetl.outbox_mark_failed(
    p_outbox_id bigint,
    p_error text,
    p_attempts integer DEFAULT 1,
    p_max_delay_seconds integer DEFAULT 300,
    p_msg_id text DEFAULT NULL
)
RETURNS TABLE (marked boolean, available_at_in integer)
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_delay integer;
    v_count integer;
BEGIN
    v_delay := least(greatest(coalesce(p_max_delay_seconds, 300), 1),
                     (2 ^ least(8, greatest(0, coalesce(p_attempts, 1) - 1)))::integer);

    UPDATE noetl.outbox AS o
       SET status = 'FAILED',
           available_at = now() + make_interval(secs => v_delay),
           last_error = left(p_error, 2000),
           locked_at = NULL,
           updated_at = now()
     WHERE o.outbox_id = p_outbox_id
       AND o.status <> 'PUBLISHED'
       AND o.available_at <> 'infinity'
       AND (p_msg_id IS NULL OR o.msg_id = p_msg_id);
    GET DIAGNOSTICS v_count = ROW_COUNT;

    marked := v_count > 0;
    available_at_in := v_delay;
    RETURN NEXT;
END;
$$;


-- noetl.outbox_release(p_outbox_ids bigint[]) -> integer
--
-- Hands back rows the caller claimed but will not publish (shutdown, the surplus of a
-- cross-shard claim): each listed row still IN_FLIGHT goes back to FAILED when it carries an
-- error, else PENDING, with attempts - 1 (never below 0) and locked_at cleared; available_at is
-- kept, so the row is claimable at once. Returns the number of rows released.
CREATE OR REPLACE FUNCTION noetl.outbox_release(p_outbox_ids bigint[])
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE noetl.outbox AS o
       SET status = CASE WHEN o.last_error IS NULL THEN 'PENDING' ELSE 'FAILED' END,
           attempts = greatest(o.attempts - 1, 0),
           locked_at = NULL,
           updated_at = now()
     WHERE o.outbox_id = ANY (p_outbox_ids)
       AND o.status = 'IN_FLIGHT';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;


-- noetl.outbox_pending_count(p_lease_seconds DEFAULT 60) -> bigint
--
-- The number of rows outbox_claim would consider now: available PENDING/FAILED rows plus
-- lease-expired IN_FLIGHT rows. Dead rows are not pending. Read-only.
CREATE OR REPLACE FUNCTION noetl.outbox_pending_count(p_lease_seconds integer DEFAULT 60)
RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT (SELECT count(*) FROM noetl.outbox AS o
             WHERE o.status IN ('PENDING', 'FAILED') AND o.available_at <= now())
         + (SELECT count(*) FROM noetl.outbox AS o
             WHERE o.status = 'IN_FLIGHT'
               AND o.locked_at < now() - make_interval(secs => greatest(coalesce(p_lease_seconds, 60), 0)))
$$;


-- noetl.outbox_ready_exists(p_lease_seconds DEFAULT 60) -> boolean
--
-- Whether outbox_claim would find anything now: the bridge's re-check after it took the NOTIFY
-- gate and before it parks (worker-protocol §2.3.2). Read-only.
CREATE OR REPLACE FUNCTION noetl.outbox_ready_exists(p_lease_seconds integer DEFAULT 60)
RETURNS boolean
LANGUAGE plpgsql   -- not sql: a SQL function with SET is planned on every call (the bridge's every park)
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM noetl.outbox AS o
                    WHERE o.status IN ('PENDING', 'FAILED') AND o.available_at <= now())
        OR EXISTS (SELECT 1 FROM noetl.outbox AS o
                    WHERE o.status = 'IN_FLIGHT'
                      AND o.locked_at < now() - make_interval(secs => greatest(coalesce(p_lease_seconds, 60), 0)));
END;
$$;


-- noetl.outbox_next_wakeup(p_lease_seconds DEFAULT 60) -> timestamptz
--
-- The earliest future instant at which a row becomes claimable without an insert: the end of a
-- backoff (available_at of PENDING/FAILED rows not yet available, dead rows excluded) or of a
-- lease (locked_at + lease of IN_FLIGHT rows). NULL when there is none. A parked bridge sleeps
-- no longer than this. Read-only.
CREATE OR REPLACE FUNCTION noetl.outbox_next_wakeup(p_lease_seconds integer DEFAULT 60)
RETURNS timestamptz
LANGUAGE plpgsql   -- as outbox_ready_exists
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN least(
        (SELECT min(o.available_at) FROM noetl.outbox AS o
          WHERE o.status IN ('PENDING', 'FAILED')
            AND o.available_at > now() AND o.available_at <> 'infinity'),
        (SELECT min(o.locked_at) + make_interval(secs => greatest(coalesce(p_lease_seconds, 60), 0))
           FROM noetl.outbox AS o
          WHERE o.status = 'IN_FLIGHT'
            AND o.locked_at >= now() - make_interval(secs => greatest(coalesce(p_lease_seconds, 60), 0))));
END;
$$;


-- noetl.outbox_stats(p_lease_seconds DEFAULT 60) -> (ready, delayed, in_flight, dead bigint,
--     oldest_ready_created_at timestamptz)
--
-- Counts for the bridge's health and metrics: ready = outbox_pending_count; delayed = PENDING/
-- FAILED rows in backoff; in_flight = IN_FLIGHT rows within their lease; dead = rows marked by
-- outbox_mark_dead; oldest_ready_created_at = created_at of the oldest ready row (NULL when none
-- is ready). Reads only the non-published rows, through the two partial indexes. Read-only.
CREATE OR REPLACE FUNCTION noetl.outbox_stats(p_lease_seconds integer DEFAULT 60)
RETURNS TABLE (ready bigint, delayed bigint, in_flight bigint, dead bigint,
               oldest_ready_created_at timestamptz)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    WITH waiting AS (
        SELECT o.available_at, o.created_at
          FROM noetl.outbox AS o
         WHERE o.status IN ('PENDING', 'FAILED')
    ), flying AS (
        SELECT o.locked_at, o.created_at
          FROM noetl.outbox AS o
         WHERE o.status = 'IN_FLIGHT'
    ), lease AS (
        SELECT now() - make_interval(secs => greatest(coalesce(p_lease_seconds, 60), 0)) AS expired_before
    )
    SELECT (SELECT count(*) FROM waiting WHERE available_at <= now())
             + (SELECT count(*) FROM flying, lease WHERE locked_at < lease.expired_before),
           (SELECT count(*) FROM waiting WHERE available_at > now() AND available_at <> 'infinity'),
           (SELECT count(*) FROM flying, lease WHERE locked_at >= lease.expired_before),
           (SELECT count(*) FROM waiting WHERE available_at = 'infinity'),
           least((SELECT min(created_at) FROM waiting WHERE available_at <= now()),
                 (SELECT min(created_at) FROM flying, lease WHERE locked_at < lease.expired_before))
$$;


-- noetl.outbox_recover(p_lease_seconds DEFAULT 60) -> integer
--
-- Returns lease-expired IN_FLIGHT rows to PENDING (locked_at cleared, attempts kept), skipping
-- rows another transaction holds. The claim path does not need it (outbox_claim recovers
-- expired leases itself); it is for operators and tests. Returns the number of rows recovered.
CREATE OR REPLACE FUNCTION noetl.outbox_recover(p_lease_seconds integer DEFAULT 60)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE noetl.outbox AS o
       SET status = 'PENDING',
           locked_at = NULL,
           updated_at = now()
      FROM (SELECT s.outbox_id
              FROM noetl.outbox AS s
             WHERE s.status = 'IN_FLIGHT'
               AND s.locked_at < now() - make_interval(secs => greatest(coalesce(p_lease_seconds, 60), 0))
               FOR UPDATE SKIP LOCKED) AS picked
     WHERE o.outbox_id = picked.outbox_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;


-- noetl.outbox_purge(p_retention_seconds DEFAULT 3600, p_limit DEFAULT 10000) -> integer
--
-- Deletes up to p_limit PUBLISHED rows created before now() - retention (the range condition is
-- on the primary key, outbox_id < snowflake_at(now() - retention)) and published before it too:
-- a row that requeue_command re-armed and that was re-published recently keeps its old
-- outbox_id, and must survive so the requeue sweep sees when it was last published.
-- Skips rows another transaction holds. Returns the number of rows deleted.
CREATE OR REPLACE FUNCTION noetl.outbox_purge(p_retention_seconds integer DEFAULT 3600, p_limit integer DEFAULT 10000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_before timestamptz := now() - make_interval(secs => greatest(coalesce(p_retention_seconds, 3600), 0));
    v_count  integer;
BEGIN
    DELETE FROM noetl.outbox AS o
     USING (SELECT s.outbox_id
              FROM noetl.outbox AS s
             WHERE s.outbox_id < noetl.snowflake_at(v_before)
               AND s.status = 'PUBLISHED'
               AND s.published_at < v_before
             ORDER BY s.outbox_id
             LIMIT greatest(coalesce(p_limit, 10000), 0)
               FOR UPDATE SKIP LOCKED) AS picked
     WHERE o.outbox_id = picked.outbox_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;


-- noetl.outbox_mark_dead(p_outbox_id bigint, p_error text) -> boolean
--
-- For a row that can never be published (malformed payload, message larger than the stream
-- accepts): FAILED with available_at = 'infinity', last_error (first 2000 characters),
-- locked_at cleared. Such a row is never claimed again, is not pending, and is counted by
-- outbox_stats.dead; requeue_command leaves it alone. A PUBLISHED row is left unchanged.
-- Returns true iff a row was updated.
CREATE OR REPLACE FUNCTION noetl.outbox_mark_dead(p_outbox_id bigint, p_error text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE noetl.outbox AS o
       SET status = 'FAILED',
           available_at = 'infinity',
           last_error = left(p_error, 2000),
           locked_at = NULL,
           updated_at = now()
     WHERE o.outbox_id = p_outbox_id
       AND o.status <> 'PUBLISHED';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count > 0;
END;
$$;
