-- Snowflake ids (data-model.md §5).
--
-- One 64-bit layout for every id the product mints, in the app and in SQL:
--
--     id = (ms since 2024-01-01T00:00:00Z << 22) | (machine_id << 12) | sequence
--
-- The epoch 1704067200000 (ms since the Unix epoch) is fixed. Machine ids 0..511 belong to app
-- processes, 512 + shard_index to noetl.snowflake_id() in shard i, 1023 to a standalone cluster
-- database, so ids minted anywhere never collide (§5.2).
--
-- This file is applied to every database BEFORE the migrations, because column defaults call
-- noetl.snowflake_id(). It therefore must not need any table or sequence at CREATE time: the
-- functions that read noetl.shard_info or noetl.snowflake_seq are PL/pgSQL, whose bodies are
-- only resolved when first executed. The runner creates schema noetl before applying it.
-- Re-runnable: every statement is CREATE OR REPLACE.


-- noetl.snowflake_id() -> bigint
--
-- Mints a new id in this database: the clock_timestamp() millisecond, this database's
-- machine_id from noetl.shard_info, and nextval('noetl.snowflake_seq') % 4096 as the sequence.
-- Unique per database while fewer than 4096 ids are minted in one millisecond (§5.3); callers
-- insert without a conflict clause, so a collision surfaces as unique_violation.
-- Raises (SQLSTATE 55000) when noetl.shard_info has no row yet: an id without machine bits
-- would be unroutable and could collide with another shard's.
-- VOLATILE and PARALLEL UNSAFE (it advances a sequence).
--
-- Why there is no `SET search_path = ''` here, unlike the other functions: this is on the
-- ingest hot path (every server event, command and outbox row), and a SET clause makes every
-- call save and restore the GUC (and would forbid inlining, were this SQL). Measured on
-- PostgreSQL 15 on the project's machine, 300k calls per run, 5 interleaved runs:
--     without SET: 4.8 us/call (min), 5.8 (median);  with SET: 5.6 (min), 9.0 (median);
--     nextval alone: 0.4;  reading noetl.shard_info is ~3 us of the total.
-- The body is safe without it: every name is schema-qualified (functions are pg_catalog-qualified)
-- and the sequence is a fully qualified regclass literal.
-- The machine id is read from the table on every call, not cached in a session variable
-- (measured 1.9 us/call): a session cache could go stale or be overridden with SET, and the
-- table is the truth (§3.1).
CREATE OR REPLACE FUNCTION noetl.snowflake_id()
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
PARALLEL UNSAFE
AS $$
DECLARE
    v_machine_id integer;
BEGIN
    SELECT si.machine_id INTO v_machine_id FROM noetl.shard_info AS si;
    IF v_machine_id IS NULL THEN
        RAISE EXCEPTION 'noetl.snowflake_id(): noetl.shard_info has no row in this database'
            USING ERRCODE = '55000',
                  HINT = 'Run the migrate command (noetl-pg migrate) so it records this database''s identity.';
    END IF;

    RETURN ((pg_catalog.floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1704067200000) << 22)
         | (v_machine_id::bigint << 12)
         | (pg_catalog.nextval('noetl.snowflake_seq'::regclass) % 4096);
END;
$$;


-- noetl.snowflake_at(p_at timestamptz) -> bigint
--
-- The smallest id that can be minted at instant p_at (machine 0, sequence 0). Partition bounds
-- and id-range predicates use it: `id >= snowflake_at(t)` means "minted at or after t".
-- Sub-millisecond parts are truncated (floor), so every id minted during the millisecond of
-- p_at is >= the result. Instants before the epoch give negative values.
-- IMMUTABLE: the Unix epoch of a timestamptz does not depend on the session time zone.
CREATE OR REPLACE FUNCTION noetl.snowflake_at(p_at timestamptz)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT (floor(extract(epoch FROM p_at) * 1000)::bigint - 1704067200000) << 22
$$;


-- noetl.snowflake_time(p_id bigint) -> timestamptz
--
-- The instant (millisecond precision) encoded in an id: (p_id >> 22) + 1704067200000 ms since
-- the Unix epoch. Works for ids minted by the app, by workers and by SQL alike.
CREATE OR REPLACE FUNCTION noetl.snowflake_time(p_id bigint)
RETURNS timestamptz
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT pg_catalog.to_timestamp(((p_id >> 22) + 1704067200000)::double precision / 1000)
$$;


-- noetl.snowflake_machine(p_id bigint) -> integer
--
-- The 10-bit machine id encoded in an id, 0..1023.
CREATE OR REPLACE FUNCTION noetl.snowflake_machine(p_id bigint)
RETURNS integer
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT ((p_id >> 12) & 1023)::integer
$$;


-- noetl.snowflake_shard_index(p_id bigint) -> integer
--
-- The index of the shard whose SQL minted p_id (machine id - 512), or NULL when the machine id
-- is not a shard's (0..511: an app process or a worker; 1023: a standalone cluster database).
-- The caller still checks the result against its shard count N (§5.6): an id carrying
-- unexpected bits may decode to an index >= N, and then every shard must be probed.
CREATE OR REPLACE FUNCTION noetl.snowflake_shard_index(p_id bigint)
RETURNS integer
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT CASE
               WHEN ((p_id >> 12) & 1023) BETWEEN 512 AND 1022
               THEN (((p_id >> 12) & 1023) - 512)::integer
           END
$$;
