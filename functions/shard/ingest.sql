-- Event ingest (engine.md §6.3; data-model.md §9.1 apply_event, apply_events, batch_request).
--
-- Every producer event of an execution is stored under the execution lock, at the next
-- gap-free stream position, after three idempotency checks that each use one unique index:
--   1. a re-sent (execution_id, event_id) of the same type returns the first answer (same id,
--      another type is a collision: a fresh id is minted, the producer's kept as
--      meta.client_event_id);
--   2. a known idempotency key returns the first answer;
--   3. lifecycle de-duplication: a second call.done / call.error / step.exit /
--      command.completed / command.failed of one command returns the first one's id
--      (EC-39: the first terminal event wins).
-- Then the command projection is updated, and command.completed / command.failed run the
-- completion pass (orchestrator.sql). After the execution is terminal, events are still
-- stored and commands still updated, but no pass runs (EC-46).
--
-- Plans. apply_event and apply_events run with plan_cache_mode = force_generic_plan. Every
-- statement on this path is a key lookup whose best plan does not depend on the values, but
-- noetl.command (16 hash partitions) and noetl.event (range partitions) make a custom plan look
-- cheaper than the generic one (which prunes at executor start-up), so in the default mode
-- the plan cache re-plans such a statement on every call: measured 75-150 us of planning per
-- statement, several statements per event. The generic plans prune to one partition all the
-- same (EXPLAIN shows "Subplans Removed").


-- noetl.ingest_locked(p_execution_id bigint, p_event jsonb) -> jsonb
--
-- The body of apply_event for one normalised event document (keys of data-model.md §9.1);
-- the caller holds the execution lock. Returns {event_id, duplicate, commands_generated}
-- (+ claim_outcome for a worker-posted command.claimed). Raises NE422 for a document without
-- event_type or for a type only the server writes.
CREATE OR REPLACE FUNCTION noetl.ingest_locked(p_execution_id bigint, p_event jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
AS $$
DECLARE
    v_type     text := nullif(btrim(p_event ->> 'event_type'), '');
    v_payload  jsonb := p_event -> 'payload';
    v_meta     jsonb := CASE WHEN jsonb_typeof(p_event -> 'meta') = 'object' THEN p_event -> 'meta' ELSE '{}'::jsonb END;
    v_event_id bigint := noetl.parse_command_id(p_event -> 'event_id');
    v_key      text := nullif(p_event ->> 'idempotency_key', '');
    v_sent     text := p_event ->> 'status';
    v_worker   text := p_event ->> 'worker_id';
    v_existing text;
    v_found    bigint;
    v_cmd_id   bigint;
    v_cmd      noetl.command;
    v_status   text;
    v_step     text;
    v_claim    jsonb;
    v_n        integer := 0;
BEGIN
    -- guards: shape
    IF v_type IS NULL THEN
        RAISE EXCEPTION 'event_type is required' USING ERRCODE = 'NE422';
    END IF;
    IF v_type IN ('playbook_started', 'playbook.completed', 'playbook.failed', 'playbook.cancelled',
                  'command.issued', 'execution.cancelled', 'step.skipped', 'loop.done')
       OR v_type LIKE 'playbook.%' THEN
        RAISE EXCEPTION 'event_type ''%'' is written by the server only', v_type USING ERRCODE = 'NE422';
    END IF;

    -- guard: a re-sent event_id
    IF v_event_id IS NOT NULL THEN
        SELECT e.event_type INTO v_existing FROM noetl.event AS e
         WHERE e.execution_id = p_execution_id AND e.event_id = v_event_id;
        IF FOUND THEN
            IF v_existing = v_type THEN
                RETURN jsonb_build_object('event_id', v_event_id, 'duplicate', true, 'commands_generated', 0);
            END IF;
            v_meta := v_meta || jsonb_build_object('client_event_id', v_event_id::text);
            v_event_id := NULL;
        END IF;
    END IF;

    -- guard: a known idempotency key
    IF v_key IS NOT NULL THEN
        SELECT e.event_id INTO v_found FROM noetl.event AS e
         WHERE e.execution_id = p_execution_id AND e.idempotency_key = v_key;
        IF FOUND THEN
            RETURN jsonb_build_object('event_id', v_found, 'duplicate', true, 'commands_generated', 0);
        END IF;
    END IF;

    -- the command the event is about (payload, meta or payload.result names it). Read without
    -- FOR UPDATE: every writer of a command row holds its execution's row lock first (this
    -- transaction holds it), and the UPDATE below takes the row lock anyway; a separate row lock
    -- here only cost a WAL record per event.
    v_cmd_id := coalesce(
        CASE WHEN jsonb_typeof(v_payload) = 'object' THEN noetl.parse_command_id(v_payload -> 'command_id') END,
        noetl.parse_command_id(v_meta -> 'command_id'),
        CASE WHEN jsonb_typeof(v_payload -> 'result') = 'object'
             THEN noetl.parse_command_id(v_payload -> 'result' -> 'command_id') END);
    IF v_cmd_id IS NOT NULL THEN
        SELECT * INTO v_cmd FROM noetl.command AS c
         WHERE c.execution_id = p_execution_id AND c.command_id = v_cmd_id;
        IF NOT FOUND THEN
            v_cmd_id := NULL;                                   -- stored, attributed to nothing (EC-45)
        END IF;
    END IF;

    -- a worker-posted command.claimed is a claim (data-model.md §4.2)
    IF v_type = 'command.claimed' AND v_cmd_id IS NOT NULL THEN
        v_claim := noetl.claim_locked(p_execution_id, v_cmd_id, coalesce(v_worker, ''), NULL,
                                      CASE WHEN jsonb_typeof(v_payload -> 'locality') = 'object'
                                           THEN jsonb_build_object('locality', v_payload -> 'locality') END);
        RETURN jsonb_build_object(
            'event_id', CASE v_claim ->> 'outcome' WHEN 'claimed' THEN v_claim -> 'claim_event_id'
                                                   WHEN 'already_claimed_by_you' THEN '0'::jsonb END,
            'duplicate', v_claim ->> 'outcome' = 'already_claimed_by_you',
            'commands_generated', 0, 'claim_outcome', v_claim ->> 'outcome');
    END IF;

    -- guard: lifecycle de-duplication (the first terminal event of a command wins)
    IF v_cmd_id IS NOT NULL AND v_type IN ('call.done', 'call.error', 'step.exit', 'command.completed', 'command.failed') THEN
        SELECT e.event_id INTO v_found FROM noetl.event AS e
         WHERE e.execution_id = p_execution_id AND e.command_id = v_cmd_id AND e.event_type = v_type
           -- the partial index's own predicate, spelled out so a generic plan can use it
           AND e.command_id IS NOT NULL
           AND e.event_type IN ('call.done', 'call.error', 'step.exit', 'command.completed', 'command.failed');
        IF FOUND THEN
            RETURN jsonb_build_object('event_id', v_found, 'duplicate', true, 'commands_generated', 0);
        END IF;
    END IF;

    -- effects: the row
    v_status := noetl.normalize_event_status(v_sent, v_type);
    v_meta := v_meta || jsonb_build_object(
        'actionable', coalesce((p_event ->> 'actionable')::boolean, true),
        'informative', coalesce((p_event ->> 'informative')::boolean, true),
        'worker_id', v_worker);
    IF nullif(btrim(v_sent), '') IS NOT NULL AND v_sent <> v_status THEN
        v_meta := v_meta || jsonb_build_object('client_status', v_sent);
    END IF;
    v_step := coalesce(nullif(p_event ->> 'step', ''), v_cmd.step_name);
    v_event_id := coalesce(v_event_id, noetl.snowflake_id());
    PERFORM noetl.append_event(
        p_execution_id, v_event_id,
        CASE WHEN v_cmd_id IS NOT NULL THEN v_cmd_id ELSE noetl.root_event_id(p_execution_id) END,
        v_type, v_step, NULL, v_status,
        noetl.shape_event_result(v_status, v_payload, p_event ->> 'result_kind', p_event ->> 'result_uri',
                                 p_event -> 'event_ids'),
        v_meta, NULL,
        CASE WHEN v_type IN ('call.error', 'command.failed') AND jsonb_typeof(v_payload) = 'object'
             THEN noetl.error_text(v_payload -> 'error') END,
        v_cmd_id, v_worker, CASE WHEN v_worker IS NULL THEN 'server' ELSE 'worker' END,
        (p_event ->> 'created_at')::timestamptz, v_key);

    -- effects: the command projection, and the pass
    IF v_cmd_id IS NOT NULL THEN
        CASE v_type
            WHEN 'command.completed', 'command.failed' THEN
                v_n := noetl.on_completion(p_execution_id, v_event_id, v_type, v_payload, v_sent, v_cmd);
            WHEN 'call.done' THEN
                UPDATE noetl.command AS c
                   SET result = noetl.extract_call_result(v_payload),
                       status = CASE WHEN c.status = 'CLAIMED' THEN 'RUNNING' ELSE c.status END,
                       latest_event_id = v_event_id, updated_at = now()
                 WHERE c.execution_id = p_execution_id AND c.command_id = v_cmd_id
                   AND c.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED');
            WHEN 'call.error' THEN
                UPDATE noetl.command AS c
                   SET error = coalesce(CASE WHEN jsonb_typeof(v_payload) = 'object' THEN noetl.error_text(v_payload -> 'error') END,
                                        'call error'),
                       latest_event_id = v_event_id, updated_at = now()
                 WHERE c.execution_id = p_execution_id AND c.command_id = v_cmd_id
                   AND c.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED');
            WHEN 'command.started' THEN
                UPDATE noetl.command AS c
                   SET status = CASE WHEN c.status IN ('PENDING', 'CLAIMED') THEN 'RUNNING' ELSE c.status END,
                       started_at = coalesce(c.started_at, now()), heartbeat_at = now(),
                       latest_event_id = v_event_id, updated_at = now()
                 WHERE c.execution_id = p_execution_id AND c.command_id = v_cmd_id;
            WHEN 'command.heartbeat' THEN
                UPDATE noetl.command AS c SET heartbeat_at = now()
                 WHERE c.execution_id = p_execution_id AND c.command_id = v_cmd_id
                   AND c.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED');
            ELSE
                NULL;                                           -- stored only
        END CASE;
    END IF;
    RETURN jsonb_build_object('event_id', v_event_id, 'duplicate', false, 'commands_generated', v_n);
END;
$$;


-- noetl.apply_event(p_execution_id bigint, p_event jsonb) -> jsonb
--
-- Ingests one producer event (data-model.md §9.1): locks the execution (NE404 when unknown),
-- then noetl.ingest_locked. Returns {event_id, duplicate, commands_generated, execution_status}.
-- Idempotent by event_id, idempotency key and lifecycle de-duplication (see the file header).
CREATE OR REPLACE FUNCTION noetl.apply_event(p_execution_id bigint, p_event jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
-- Generic plans for everything this call runs (see the file header): the command and event
-- tables are partitioned, so the plan cache would otherwise keep re-planning each lookup.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_result jsonb;
    v_status text;
BEGIN
    PERFORM 1 FROM noetl.execution AS x WHERE x.execution_id = p_execution_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'execution % not found', p_execution_id USING ERRCODE = 'NE404';
    END IF;
    v_result := noetl.ingest_locked(p_execution_id, p_event);
    SELECT x.status INTO v_status FROM noetl.execution AS x WHERE x.execution_id = p_execution_id;
    RETURN v_result || jsonb_build_object('execution_status', v_status);
END;
$$;


-- noetl.apply_events(p_execution_id, p_events jsonb, p_idempotency_key, p_worker_id) -> jsonb
--
-- A batch, atomically, under one lock of the execution: creates the ingest_request, applies
-- each element in array order as apply_event would (a pass after each completion), records
-- event_ids and commands_generated. Returns {request_id, event_ids, commands_generated,
-- duplicate}; a repeated key of the same execution returns the stored request, duplicate true.
CREATE OR REPLACE FUNCTION noetl.apply_events(
    p_execution_id    bigint,
    p_events          jsonb,
    p_idempotency_key text,
    p_worker_id       text
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = ''
SET plan_cache_mode = force_generic_plan      -- as apply_event
AS $$
DECLARE
    v_req    noetl.ingest_request;
    v_event  jsonb;
    v_res    jsonb;
    v_ids    bigint[] := '{}';
    v_items  jsonb := '[]';
    v_n      integer := 0;
BEGIN
    IF jsonb_typeof(p_events) <> 'array' THEN
        RAISE EXCEPTION 'events must be an array' USING ERRCODE = 'NE422';
    END IF;
    PERFORM 1 FROM noetl.execution AS x WHERE x.execution_id = p_execution_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'execution % not found', p_execution_id USING ERRCODE = 'NE404';
    END IF;

    IF nullif(p_idempotency_key, '') IS NOT NULL THEN
        SELECT * INTO v_req FROM noetl.ingest_request AS r
         WHERE r.execution_id = p_execution_id AND r.idempotency_key = p_idempotency_key;
        IF FOUND THEN
            RETURN jsonb_build_object('request_id', v_req.request_id, 'event_ids', to_jsonb(v_req.event_ids),
                                      'commands_generated', v_req.commands_generated, 'duplicate', true);
        END IF;
    END IF;

    INSERT INTO noetl.ingest_request (execution_id, idempotency_key, worker_id, state)
    VALUES (p_execution_id, nullif(p_idempotency_key, ''), p_worker_id, 'processing')
    RETURNING * INTO v_req;

    FOR v_event IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        IF p_worker_id IS NOT NULL AND NOT v_event ? 'worker_id' THEN
            v_event := v_event || jsonb_build_object('worker_id', p_worker_id);
        END IF;
        -- every stored item names its batch (http-api.md §2.6.2), as a string like other stored ids
        v_event := v_event || jsonb_build_object('meta',
            CASE WHEN jsonb_typeof(v_event -> 'meta') = 'object' THEN v_event -> 'meta' ELSE '{}'::jsonb END
            || jsonb_build_object('batch_request_id', v_req.request_id::text));
        v_res := noetl.ingest_locked(p_execution_id, v_event);
        v_items := v_items || jsonb_build_array(v_res);
        v_ids := v_ids || (v_res ->> 'event_id')::bigint;
        v_n := v_n + coalesce((v_res ->> 'commands_generated')::integer, 0);
    END LOOP;

    UPDATE noetl.ingest_request
       SET state = 'completed', status = 'COMPLETED', event_ids = v_ids, commands_generated = v_n, updated_at = now()
     WHERE request_id = v_req.request_id;
    -- items: each element's own answer (event_id, duplicate, claim_outcome for a command.claimed)
    RETURN jsonb_build_object('request_id', v_req.request_id, 'event_ids', to_jsonb(v_ids),
                              'commands_generated', v_n, 'duplicate', false, 'items', v_items);
END;
$$;


-- noetl.batch_request(p_request_id bigint) -> jsonb
--
-- The ingest_request row of a batch (or of an execute_request), for the batch status route;
-- NULL when unknown. Read-only.
CREATE OR REPLACE FUNCTION noetl.batch_request(p_request_id bigint)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT to_jsonb(r) FROM noetl.ingest_request AS r WHERE r.request_id = p_request_id
$$;
