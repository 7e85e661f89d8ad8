-- Claims and command lifecycle outside the passes (data-model.md §9.1 claim_command,
-- get_command, requeue_command, stale_commands; http-api.md §2.5.1).
--
-- A claim never runs a pass: it moves a PENDING command to CLAIMED and records command.claimed.
-- Outcomes are values, not errors, checked in this order: not_found, execution_cancelled,
-- already_terminal, already_claimed_by_you, reclaimed, active_claim, claimed. Whether a
-- holder's claim is stale is the app's decision (it knows worker liveness); it then claims
-- again with p_steal_from = the holder, which makes a takeover a compare-and-swap.
-- Locks: execution row, then command row (§9.0). requeue_command takes both with SKIP LOCKED.


-- noetl.command_view(p_execution_id, p_command_id) -> jsonb
--
-- The command as a claim answer shows it: event_id, execution_id (numbers), node_id,
-- node_name, action (tool kind), context and meta of the command.issued row (meta.attempt =
-- command.attempt), catalog_id, command_status.
CREATE OR REPLACE FUNCTION noetl.command_view(p_execution_id bigint, p_command_id bigint)
RETURNS jsonb
LANGUAGE plpgsql   -- not sql: a SQL function with SET is planned on every call; PL/pgSQL keeps the plan
STABLE
SET search_path = ''
AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
                   'event_id', c.command_id, 'execution_id', c.execution_id,
                   'node_id', c.step_name, 'node_name', c.step_name, 'action', c.tool_kind,
                   'context', e.context,
                   'meta', coalesce(e.meta, '{}'::jsonb) || jsonb_build_object('attempt', c.attempt),
                   'catalog_id', c.catalog_id, 'command_status', c.status)
          FROM noetl.command AS c
          JOIN noetl.event AS e ON e.execution_id = c.execution_id AND e.event_id = c.command_id
         WHERE c.execution_id = p_execution_id AND c.command_id = p_command_id);
END;
$$;


-- noetl.claim_locked(p_execution_id, p_command_id, p_worker_id, p_steal_from, p_meta) -> jsonb
--
-- The claim decision for a command of an execution whose row the caller has locked; locks the
-- command row. Returns {outcome, …} as claim_command documents; claimed and reclaimed also
-- carry claim_event_id (the command.claimed row written).
CREATE OR REPLACE FUNCTION noetl.claim_locked(
    p_execution_id bigint,
    p_command_id   bigint,
    p_worker_id    text,
    p_steal_from   text,
    p_meta         jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_xstatus text;
    v_cmd     noetl.command;
    v_id      bigint;
    v_cid     text;
    v_meta    jsonb;
    v_outcome text;
BEGIN
    SELECT x.status INTO v_xstatus FROM noetl.execution AS x WHERE x.execution_id = p_execution_id;
    SELECT * INTO v_cmd FROM noetl.command AS c
     WHERE c.execution_id = p_execution_id AND c.command_id = p_command_id
       FOR UPDATE;
    IF v_xstatus IS NULL OR NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;

    -- guards, in the documented order
    IF v_xstatus = 'CANCELLED' THEN
        RETURN jsonb_build_object('outcome', 'execution_cancelled', 'command_status', v_cmd.status,
                                  'execution_status', v_xstatus);
    END IF;
    IF v_xstatus IN ('COMPLETED', 'FAILED') OR v_cmd.status IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN
        RETURN jsonb_build_object('outcome', 'already_terminal', 'command_status', v_cmd.status,
                                  'execution_status', v_xstatus);
    END IF;
    IF v_cmd.status = 'CLAIMED' AND v_cmd.worker_id = p_worker_id THEN
        RETURN jsonb_build_object('outcome', 'already_claimed_by_you')
            || noetl.command_view(p_execution_id, p_command_id);
    END IF;
    IF v_cmd.status IN ('CLAIMED', 'RUNNING') THEN
        IF p_steal_from IS NULL OR p_steal_from IS DISTINCT FROM v_cmd.worker_id THEN
            RETURN jsonb_build_object('outcome', 'active_claim', 'holder', v_cmd.worker_id,
                                      'status', v_cmd.status, 'claimed_at', v_cmd.claimed_at,
                                      'heartbeat_at', v_cmd.heartbeat_at,
                                      'timeout_seconds', v_cmd.meta -> 'timeout_seconds',
                                      'command_status', v_cmd.status, 'execution_status', v_xstatus);
        END IF;
        v_outcome := 'reclaimed';
    ELSE
        v_outcome := 'claimed';
    END IF;

    -- effects: command.claimed and the command row
    v_id := noetl.snowflake_id();
    v_cid := coalesce(v_cmd.meta ->> 'command_id', p_execution_id::text || ':' || v_cmd.step_name || ':' || p_command_id::text);
    v_meta := jsonb_build_object('command_id', v_cid, 'worker_id', p_worker_id, 'actionable', false, 'informative', true)
              || coalesce(p_meta, '{}'::jsonb);
    IF v_outcome = 'reclaimed' THEN
        v_meta := v_meta || jsonb_build_object('reclaimed_from', v_cmd.worker_id);
    END IF;
    PERFORM noetl.append_event(p_execution_id, v_id, p_command_id, 'command.claimed', v_cmd.step_name, NULL, 'RUNNING',
        jsonb_build_object('status', 'RUNNING', 'context', jsonb_build_object('command_id', v_cid, 'worker_id', p_worker_id)),
        v_meta, NULL, NULL, p_command_id, p_worker_id);
    UPDATE noetl.command
       SET status = 'CLAIMED', worker_id = p_worker_id, claimed_at = now(), heartbeat_at = now(),
           latest_event_id = v_id, updated_at = now()
     WHERE execution_id = p_execution_id AND command_id = p_command_id;

    RETURN jsonb_build_object('outcome', v_outcome, 'claim_event_id', v_id)
        || CASE WHEN v_outcome = 'reclaimed' THEN jsonb_build_object('reclaimed_from', v_cmd.worker_id) ELSE '{}'::jsonb END
        || noetl.command_view(p_execution_id, p_command_id);
END;
$$;


-- noetl.claim_command(p_command_id, p_worker_id, p_steal_from DEFAULT NULL, p_meta DEFAULT NULL) -> jsonb
--
-- Finds the command by id alone (command_id_idx), locks its execution then the command, and
-- decides (noetl.claim_locked). A repeated claim by the holder is answered again without a
-- write (already_claimed_by_you). Generic plans, for the reason ingest.sql gives: in the
-- default mode every key lookup here into the partitioned command and event tables was
-- re-planned on each claim.
CREATE OR REPLACE FUNCTION noetl.claim_command(
    p_command_id bigint,
    p_worker_id  text,
    p_steal_from text DEFAULT NULL,
    p_meta       jsonb DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_xid bigint;
BEGIN
    SELECT c.execution_id INTO v_xid FROM noetl.command AS c WHERE c.command_id = p_command_id LIMIT 1;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'not_found');
    END IF;
    PERFORM 1 FROM noetl.execution AS x WHERE x.execution_id = v_xid FOR NO KEY UPDATE;
    RETURN noetl.claim_locked(v_xid, p_command_id, p_worker_id, p_steal_from, p_meta);
END;
$$;


-- noetl.get_command(p_command_id bigint) -> jsonb
--
-- The claim view of a command without side effects (+ command_status); NULL when unknown.
CREATE OR REPLACE FUNCTION noetl.get_command(p_command_id bigint)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT noetl.command_view(c.execution_id, c.command_id)
      FROM noetl.command AS c WHERE c.command_id = p_command_id LIMIT 1
$$;


-- noetl.requeue_command(p_execution_id, p_command_id, p_reason) -> jsonb {requeued}
--
-- Republishes a command (data-model.md §8.3, §9.1): a CLAIMED or RUNNING command goes back to
-- PENDING (attempt + 1, claimed_at cleared, {requeued_at, reason} appended to meta.requeues)
-- and its outbox row is re-armed; a PENDING command whose notification was PUBLISHED or purged
-- only gets its outbox row re-armed. Re-arming: PENDING, available now, attempts 0,
-- republished + 1, msg_id "<event_id>-r<republished>"; a dead row is never re-armed.
-- Busy execution or command rows (SKIP LOCKED), a non-RUNNING execution, a terminal command:
-- {requeued: false} and nothing changes.
CREATE OR REPLACE FUNCTION noetl.requeue_command(p_execution_id bigint, p_command_id bigint, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_xstatus text;
    v_url     text;
    v_subject text;
    v_cmd     noetl.command;
    v_outbox  text;
    v_dead    boolean;
BEGIN
    SELECT x.status, x.server_url, x.command_subject INTO v_xstatus, v_url, v_subject
      FROM noetl.execution AS x WHERE x.execution_id = p_execution_id
       FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND OR v_xstatus <> 'RUNNING' THEN
        RETURN jsonb_build_object('requeued', false);
    END IF;
    SELECT * INTO v_cmd FROM noetl.command AS c
     WHERE c.execution_id = p_execution_id AND c.command_id = p_command_id
       FOR UPDATE SKIP LOCKED;
    IF NOT FOUND OR v_cmd.status NOT IN ('PENDING', 'CLAIMED', 'RUNNING') THEN
        RETURN jsonb_build_object('requeued', false);
    END IF;

    SELECT o.status, o.available_at = 'infinity' INTO v_outbox, v_dead
      FROM noetl.outbox AS o WHERE o.execution_id = p_execution_id AND o.event_id = p_command_id;
    IF v_cmd.status = 'PENDING' AND NOT (v_outbox IS NULL OR v_outbox = 'PUBLISHED') THEN
        RETURN jsonb_build_object('requeued', false);           -- the drain loop owns it
    END IF;

    IF v_cmd.status IN ('CLAIMED', 'RUNNING') THEN
        UPDATE noetl.command AS c
           SET status = 'PENDING', attempt = c.attempt + 1, claimed_at = NULL, updated_at = now(),
               meta = coalesce(c.meta, '{}'::jsonb) || jsonb_build_object('requeues',
                   coalesce(c.meta -> 'requeues', '[]'::jsonb)
                   || jsonb_build_array(jsonb_build_object('requeued_at', now(), 'reason', p_reason)))
         WHERE c.execution_id = p_execution_id AND c.command_id = p_command_id;
    END IF;

    IF NOT coalesce(v_dead, false) THEN
        INSERT INTO noetl.outbox AS o (execution_id, event_id, subject, payload, msg_id, republished)
        VALUES (p_execution_id, p_command_id, v_subject,
                noetl.command_notification(p_execution_id, p_command_id,
                    coalesce(v_cmd.meta ->> 'command_id',
                             p_execution_id::text || ':' || v_cmd.step_name || ':' || p_command_id::text),
                    v_cmd.step_name, v_url),
                p_command_id::text || '-r1', 1)
        ON CONFLICT (execution_id, event_id) DO UPDATE
           SET status = 'PENDING', available_at = now(), attempts = 0, locked_at = NULL, last_error = NULL,
               republished = o.republished + 1, msg_id = o.event_id::text || '-r' || (o.republished + 1)::text,
               updated_at = now()
         WHERE o.available_at <> 'infinity';
    END IF;
    RETURN jsonb_build_object('requeued', true);
END;
$$;


-- noetl.stale_commands(p_claimed_before, p_pending_before, p_limit) -> SETOF (…)
--
-- Non-terminal commands of RUNNING executions that are CLAIMED/RUNNING with last activity
-- (coalesce(heartbeat_at, claimed_at)) before p_claimed_before, or PENDING with updated_at
-- before p_pending_before; oldest first, through command_open_idx; with the outbox facts the
-- requeue sweep needs. Read-only: the caller owns the policy.
CREATE OR REPLACE FUNCTION noetl.stale_commands(
    p_claimed_before timestamptz,
    p_pending_before timestamptz,
    p_limit          integer
)
RETURNS TABLE (
    execution_id    bigint,
    command_id      bigint,
    status          text,
    worker_id       text,
    claimed_at      timestamptz,
    heartbeat_at    timestamptz,
    updated_at      timestamptz,
    timeout_seconds numeric,
    outbox_status   text,
    published_at    timestamptz,
    republished     integer
)
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT c.execution_id, c.command_id, c.status, c.worker_id, c.claimed_at, c.heartbeat_at, c.updated_at,
           CASE WHEN jsonb_typeof(c.meta -> 'timeout_seconds') = 'number' THEN (c.meta ->> 'timeout_seconds')::numeric END,
           o.status, o.published_at, o.republished
      FROM noetl.command AS c
      JOIN noetl.execution AS x ON x.execution_id = c.execution_id AND x.status = 'RUNNING'
      LEFT JOIN noetl.outbox AS o ON o.execution_id = c.execution_id AND o.event_id = c.command_id
     WHERE c.status IN ('PENDING', 'CLAIMED', 'RUNNING')
       AND ((c.status IN ('CLAIMED', 'RUNNING') AND coalesce(c.heartbeat_at, c.claimed_at) < p_claimed_before)
            OR (c.status = 'PENDING' AND c.updated_at < p_pending_before))
     ORDER BY c.updated_at
     LIMIT greatest(coalesce(p_limit, 100), 0)
$$;
