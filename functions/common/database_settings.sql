-- noetl.configure_database: the database-level settings the migrate command maintains.
--
-- Contract: sets `timezone = 'UTC'` as this database's default so ad-hoc psql sessions agree
-- with the app (data-model §1.4), and, when p_outbox_gate_keys is given (shards), the custom
-- setting noetl.outbox_gate_keys that the outbox NOTIFY gate and the bridge both read (§3.6).
-- Idempotent; takes effect for new sessions only.
CREATE OR REPLACE FUNCTION noetl.configure_database(p_outbox_gate_keys integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- guard: a key count outside 1..1024 would make the gate lock keys meaningless
    IF p_outbox_gate_keys IS NOT NULL AND p_outbox_gate_keys NOT BETWEEN 1 AND 1024 THEN
        RAISE EXCEPTION 'outbox gate key count must be in 1..1024, got %', p_outbox_gate_keys
            USING ERRCODE = 'NE422';
    END IF;

    EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC');
    IF p_outbox_gate_keys IS NOT NULL THEN
        EXECUTE format('ALTER DATABASE %I SET noetl.outbox_gate_keys TO %L',
                       current_database(), p_outbox_gate_keys::text);
    END IF;
END;
$$;
