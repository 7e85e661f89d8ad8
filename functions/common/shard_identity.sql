-- noetl.shard_identity() -> noetl.shard_info   (data-model.md §1.5, §9.3)
--
-- This database's identity row, for the app's startup checks: role flags, shard index and
-- count, machine id and database_uuid. Read-only (STABLE).
-- Raises SQLSTATE 55000 when the row is missing (the database was never migrated), so a
-- misconfigured DSN fails loudly instead of comparing against NULLs.
CREATE OR REPLACE FUNCTION noetl.shard_identity()
RETURNS noetl.shard_info
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_row noetl.shard_info;
BEGIN
    SELECT * INTO v_row FROM noetl.shard_info;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'noetl.shard_identity(): noetl.shard_info has no row in this database'
            USING ERRCODE = '55000',
                  HINT = 'Run the migrate command (noetl-pg migrate) on this database.';
    END IF;
    RETURN v_row;
END;
$$;
