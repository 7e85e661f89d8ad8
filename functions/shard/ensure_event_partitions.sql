-- noetl.ensure_event_partitions(p_until timestamptz DEFAULT now() + interval '6 months')
--     -> SETOF text   (data-model.md §2.8.1, §9.3)
--
-- Creates the quarterly partitions of noetl.event, event_<yyyy>_q<n>, bounded by
-- noetl.snowflake_at() of the quarter's first instant and of the next quarter's (UTC), from
-- 2028-Q1 or the current quarter, whichever is later, up to the quarter containing p_until.
-- Everything before 2028 is fixed by the shard migration. Returns the names it created, so a
-- repeat call returns nothing (idempotent); p_until before 2028, or NULL, creates nothing.
--
-- It never fails on a quarter it cannot create; it skips it with a WARNING the app logs at
-- ERROR level, and the next (daily) run retries:
--   - rows of that id range are already stored (in event_default): creating the partition
--     would fail, and the operator must move them out first;
--   - the name is taken by something that is not a partition of noetl.event, or the range
--     overlaps a hand-made partition;
--   - the lock on noetl.event is not obtained within lock_timeout (5 s, set on the function so
--     it only bounds this call): creating a partition locks the parent, and must not stall
--     ingest for longer than that. The remaining quarters are left for the next run.
-- Locks: ACCESS EXCLUSIVE on noetl.event and event_default while a partition is created, held
-- to the end of the caller's transaction.
CREATE OR REPLACE FUNCTION noetl.ensure_event_partitions(
    p_until timestamptz DEFAULT now() + interval '6 months'
)
RETURNS SETOF text
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET lock_timeout = '5s'
AS $$
DECLARE
    -- quarter starts as UTC wall-clock timestamps: month arithmetic on timestamptz would follow
    -- the session time zone and could cut at local midnight
    v_quarter   timestamp;
    v_last      timestamp;
    v_name      text;
    v_from      bigint;
    v_to        bigint;
    v_existing  regclass;
    v_holder    regclass;
    v_created   boolean;
BEGIN
    v_quarter := greatest(timestamp '2028-01-01 00:00:00',
                          date_trunc('quarter', now() AT TIME ZONE 'UTC'));
    v_last := date_trunc('quarter', p_until AT TIME ZONE 'UTC');

    WHILE v_quarter <= v_last LOOP
        v_name := format('event_%s_q%s',
                         extract(year FROM v_quarter)::integer,
                         extract(quarter FROM v_quarter)::integer);
        v_from := noetl.snowflake_at(v_quarter AT TIME ZONE 'UTC');
        v_to := noetl.snowflake_at((v_quarter + interval '3 months') AT TIME ZONE 'UTC');
        v_created := false;

        -- guard: already there (the idempotent case), or the name is taken by something else
        v_existing := pg_catalog.to_regclass(format('noetl.%I', v_name));
        IF v_existing IS NOT NULL THEN
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS i
                           WHERE i.inhrelid = v_existing
                             AND i.inhparent = 'noetl.event'::regclass) THEN
                RAISE WARNING 'noetl.ensure_event_partitions: % exists but is not a partition of noetl.event; skipped', v_name;
            END IF;

        ELSE
            -- guard: rows of this range already stored (event_default, or a hand-made partition)
            SELECT e.tableoid::regclass INTO v_holder
            FROM noetl.event AS e
            WHERE e.execution_id >= v_from AND e.execution_id < v_to
            LIMIT 1;

            IF v_holder IS NOT NULL THEN
                RAISE WARNING 'noetl.ensure_event_partitions: % skipped: % already holds rows with execution_id in [%, %)', v_name, v_holder, v_from, v_to
                    USING HINT = 'Move those rows out of the default partition, run noetl.ensure_event_partitions() again, then re-insert them.';
            ELSE
                -- effect: create the partition (inherits the PK, indexes and checks of noetl.event)
                BEGIN
                    EXECUTE format('CREATE TABLE noetl.%I PARTITION OF noetl.event FOR VALUES FROM (%s) TO (%s)',
                                   v_name, v_from, v_to);
                    v_created := true;
                EXCEPTION
                    WHEN lock_not_available THEN
                        RAISE WARNING 'noetl.ensure_event_partitions: % not created: lock on noetl.event not obtained within lock_timeout; the next run retries', v_name;
                        RETURN;
                    WHEN invalid_object_definition OR check_violation THEN
                        -- an overlapping hand-made partition, or a row that arrived meanwhile
                        RAISE WARNING 'noetl.ensure_event_partitions: % skipped: %', v_name, SQLERRM;
                END;
            END IF;
        END IF;

        IF v_created THEN
            RETURN NEXT v_name;
        END IF;
        v_quarter := v_quarter + interval '3 months';
    END LOOP;
END;
$$;
