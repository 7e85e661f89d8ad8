-- The outbox NOTIFY gate, producer side (worker-protocol.md §2.3, data-model.md §3.6 as
-- superseded by worker-protocol §9.1 Q5).
--
-- A pg_notify in every producing transaction serialises commits on the notification queue lock,
-- so producers notify only when a bridge is parked, and at most once per transaction. "A bridge
-- is parked" is an advisory lock, not a table flag: the two-integer key (1852794228 = 'noet', k)
-- with k in 1..K, K = the database setting noetl.outbox_gate_keys (unset or invalid: 1).
--
--   - A parked bridge holds every gate key exclusively (session level), taken without waiting.
--   - A producing transaction, at its first outbox insert, tries its key in shared mode
--     (transaction level). Success means no bridge is parked: it holds the key until it ends,
--     which keeps any bridge from parking before this transaction's rows are visible, and it
--     does not notify. Failure means a bridge is parked: it notifies (delivered at commit,
--     dropped on rollback).
--   - The decision is remembered in the transaction-local setting noetl.outbox_gate ('held' or
--     'notified'), so later inserts of the same transaction return at once. The setting, the
--     shared lock and the notification all follow a savepoint rollback, so a rolled-back first
--     insert leaves the next insert to decide again.
--
-- Why no wake-up is lost is argued in worker-protocol §2.3.2.
--
-- Hot path: this runs for every outbox row the engine writes. It has no `SET search_path`
-- clause, because one makes every call save and restore the setting (measured for
-- noetl.snowflake_id, functions/ids.sql); every name below is pg_catalog-qualified instead.


-- noetl.outbox_signal() -> trigger
--
-- AFTER INSERT ... FOR EACH ROW on noetl.outbox. Takes the gate key in shared mode or notifies
-- channel noetl_outbox (empty payload), once per transaction. Never raises for a bad
-- noetl.outbox_gate_keys value (falls back to 1 key): a misconfigured setting must not stop
-- command issuance.
CREATE OR REPLACE FUNCTION noetl.outbox_signal()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_state text;
    v_keys  text;
    v_count integer := 1;
BEGIN
    -- guard: this transaction has already taken the gate or notified
    v_state := pg_catalog.current_setting('noetl.outbox_gate', true);
    IF v_state = 'held' OR v_state = 'notified' THEN
        RETURN NULL;
    END IF;

    v_keys := pg_catalog.current_setting('noetl.outbox_gate_keys', true);
    IF v_keys ~ '^[0-9]{1,4}$' AND v_keys::integer BETWEEN 1 AND 1024 THEN
        v_count := v_keys::integer;
    END IF;

    -- lock: the gate in shared mode, to the end of the transaction, without waiting
    IF pg_catalog.pg_try_advisory_xact_lock_shared(1852794228, 1 + pg_catalog.pg_backend_pid() % v_count) THEN
        PERFORM pg_catalog.set_config('noetl.outbox_gate', 'held', true);
    ELSE
        -- effect: a bridge is parked; wake it at commit
        PERFORM pg_catalog.pg_notify('noetl_outbox', '');
        PERFORM pg_catalog.set_config('noetl.outbox_gate', 'notified', true);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER outbox_signal
    AFTER INSERT ON noetl.outbox
    FOR EACH ROW
    EXECUTE FUNCTION noetl.outbox_signal();
