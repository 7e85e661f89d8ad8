-- Our orchestration projections and batch-ingest bookkeeping (data-model.md §3.3, §3.4, §3.5).
-- Shard databases. engine.md owns every transition of these rows; the tables only hold state.

-- One row per (execution, step) the engine has touched; a back-edge reuses the row and bumps
-- epoch. Applying an event touches a bounded number of these rows, so the cost per event does
-- not grow with the execution (D11). The only index is the PK: steps are always read through
-- its prefix. fillfactor 80 for the same reason as noetl.execution: the row is updated on every
-- completion of the step, and no updated column is indexed, so the updates can stay HOT.
CREATE TABLE noetl.step_state (
    execution_id             bigint      NOT NULL,
    step_name                text        NOT NULL,
    status                   text        NOT NULL,
    epoch                    integer     NOT NULL DEFAULT 0,
    enter_event_id           bigint,
    trigger_step             text,
    arrivals                 text[]      NOT NULL DEFAULT '{}',
    completions              integer     NOT NULL DEFAULT 0,
    result_event_id          bigint,
    first_completed_event_id bigint,
    args                     jsonb,
    is_loop                  boolean     NOT NULL DEFAULT false,
    loop_mode                text,
    iterator                 text,
    max_in_flight            integer,
    iterations_expected      integer,
    iterations_dispatched    integer     NOT NULL DEFAULT 0,
    iterations_completed     integer     NOT NULL DEFAULT 0,
    iterations_failed        integer     NOT NULL DEFAULT 0,
    in_flight                integer     GENERATED ALWAYS AS
                                 (iterations_dispatched - iterations_completed - iterations_failed) STORED,
    result                   jsonb,
    error                    text,
    entered_at               timestamptz,
    finished_at              timestamptz,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT step_state_pkey PRIMARY KEY (execution_id, step_name),
    CONSTRAINT step_state_status_chk CHECK (
        status IN ('WAITING', 'ENTERED', 'COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED')
    ),
    CONSTRAINT step_state_loop_mode_chk CHECK (loop_mode IN ('sequential', 'parallel'))
) WITH (fillfactor = 80);

-- Pending items of a bounded loop (max_in_flight < iterations_expected, sequential included):
-- each later dispatch reads one item in O(1) instead of detoasting the whole collection.
CREATE TABLE noetl.loop_item (
    execution_id bigint  NOT NULL,
    step_name    text    NOT NULL,
    epoch        integer NOT NULL,
    iter_index   integer NOT NULL,
    item         jsonb   NOT NULL,
    CONSTRAINT loop_item_pkey PRIMARY KEY (execution_id, step_name, epoch, iter_index)
);

-- Batch ingest requests (/api/events/batch) and sub-playbook execute idempotency
-- (execute_request). request_id is minted here, so its machine bits route the batch status
-- route to this shard (§5.6).
CREATE TABLE noetl.ingest_request (
    request_id         bigint      NOT NULL DEFAULT noetl.snowflake_id(),
    execution_id       bigint      NOT NULL,
    idempotency_key    text,
    worker_id          text,
    state              text        NOT NULL,
    status             text,
    error_code         text,
    message            text,
    event_ids          bigint[]    NOT NULL DEFAULT '{}',
    commands_generated integer     NOT NULL DEFAULT 0,
    child_execution_id bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ingest_request_pkey PRIMARY KEY (request_id),
    CONSTRAINT ingest_request_state_chk CHECK (state IN ('accepted', 'processing', 'completed', 'failed'))
);

-- a repeated Idempotency-Key of one execution finds the first request
CREATE UNIQUE INDEX ingest_request_idempotency_uidx ON noetl.ingest_request (execution_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
