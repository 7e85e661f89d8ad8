-- The execution projection and the append-only event log (data-model.md §2.7, §2.8, §2.13).
-- Shard databases. There are no foreign keys inside shard tables (§2.0): every writer is one of
-- our functions and already holds the execution row lock; an FK would add a lookup and a
-- KEY SHARE lock per inserted row on the hottest path.

-- One row per execution, created by noetl.start_execution; it is also the per-execution lock
-- (§9.0). fillfactor 80: the row is updated on every event, and the spare room on its page keeps
-- those updates HOT (none of the columns updated per event is indexed).
CREATE TABLE noetl.execution (
    execution_id        bigint      NOT NULL,
    catalog_id          bigint      NOT NULL,
    parent_execution_id bigint,
    status              varchar     NOT NULL DEFAULT 'RUNNING',
    last_event_type     varchar,
    last_node_name      varchar,
    last_event_id       bigint,
    start_time          timestamptz,
    end_time            timestamptz,
    error               text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    state               jsonb,
    path                text        NOT NULL,
    version             integer     NOT NULL,
    kind                text        NOT NULL DEFAULT 'playbook',
    plan                jsonb       NOT NULL,
    plan_format         integer     NOT NULL,
    workload            jsonb       NOT NULL DEFAULT '{}',
    env                 jsonb       NOT NULL DEFAULT '{}',
    ctx                 jsonb       NOT NULL DEFAULT '{}',
    server_url          text        NOT NULL,
    command_subject     text        NOT NULL,
    event_count         bigint      NOT NULL DEFAULT 0,
    terminal_event_id   bigint,
    result              jsonb,
    CONSTRAINT execution_pkey PRIMARY KEY (execution_id),
    CONSTRAINT execution_status_chk CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    -- §2.7 invariant: end_time set <=> status terminal <=> terminal_event_id set. Only cheap
    -- scalar checks here: this row is updated on every event, so no check may detoast plan.
    CONSTRAINT execution_terminal_chk CHECK (
        (end_time IS NULL) = (status = 'RUNNING')
        AND (terminal_event_id IS NULL) = (status = 'RUNNING')
    )
) WITH (fillfactor = 80);

-- the list page, fanned out per shard and merged by the app
CREATE INDEX execution_start_idx ON noetl.execution (start_time DESC, execution_id DESC);
CREATE INDEX execution_status_start_idx ON noetl.execution (status, start_time DESC);
-- cascade cancel and child lookups
CREATE INDEX execution_parent_idx ON noetl.execution (parent_execution_id) WHERE parent_execution_id IS NOT NULL;
CREATE INDEX execution_catalog_idx ON noetl.execution (catalog_id);

-- The event log, partitioned by execution id so that a period of executions can be retired by
-- dropping a partition. Every id has the layout of §5, so a bound for instant t is
-- noetl.snowflake_at(t); the pgTAP suite checks the literals below against it.
CREATE TABLE noetl.event (
    execution_id        bigint           NOT NULL,
    catalog_id          bigint           NOT NULL,
    event_id            bigint           NOT NULL,
    parent_event_id     bigint,
    parent_execution_id bigint,
    -- clock_timestamp(), not now(): rows of one transaction get distinct, increasing times
    created_at          timestamptz      NOT NULL DEFAULT clock_timestamp(),
    event_type          varchar          NOT NULL,
    node_id             varchar,
    node_name           varchar,
    node_type           varchar,
    status              varchar          NOT NULL,
    duration            double precision,
    context             jsonb,
    result              jsonb,
    meta                jsonb,
    error               text,
    current_index       integer,
    current_item        text,
    worker_id           varchar,
    distributed_state   varchar,
    context_key         varchar,
    context_value       text,
    trace_component     jsonb,
    stack_trace         text,
    tenant_id           text             NOT NULL DEFAULT 'default',
    organization_id     text             NOT NULL DEFAULT 'default',
    stream_id           text,
    stream_version      bigint,
    aggregate_id        text,
    aggregate_type      text,
    schema_name         text,
    schema_version      integer          NOT NULL DEFAULT 1,
    event_time          timestamptz      NOT NULL DEFAULT clock_timestamp(),
    ingest_time         timestamptz      NOT NULL DEFAULT clock_timestamp(),
    producer            text,
    causation_id        text,
    correlation_id      text,
    idempotency_key     text,
    payload_ref         jsonb,
    envelope_checksum   text,
    command_id          bigint,
    stage_id            bigint,
    frame_id            bigint,
    -- event_id alone is not unique: the partition key must be part of every unique index (§10.5)
    CONSTRAINT event_pkey PRIMARY KEY (execution_id, event_id),
    -- §2.8.3, exact name kept for tooling. A backstop: writers shape result before inserting.
    -- CASE guards the key tests, which would raise on a non-object value.
    CONSTRAINT chk_event_result_shape CHECK (
        result IS NULL
        OR CASE
               WHEN jsonb_typeof(result) <> 'object' THEN false
               ELSE jsonb_typeof(result -> 'status') IS NOT DISTINCT FROM 'string'
                    AND (result - ARRAY['status', 'reference', 'context']) = '{}'::jsonb
                    AND (NOT (result ? 'reference') OR jsonb_typeof(result -> 'reference') = 'object')
                    AND (NOT (result ? 'context') OR jsonb_typeof(result -> 'context') = 'object')
           END
    )
) PARTITION BY RANGE (execution_id);

-- The fixed partitions (§2.8.1). FROM is inclusive, TO exclusive. Quarterly partitions from
-- 2028 on are created ahead of time by noetl.ensure_event_partitions(), not by a migration.
CREATE TABLE noetl.event_pre_2026 PARTITION OF noetl.event
    FOR VALUES FROM (MINVALUE) TO (264905529753600000);             -- .. 2026-01-01, incl. 0 and negatives
CREATE TABLE noetl.event_2026_q1 PARTITION OF noetl.event
    FOR VALUES FROM (264905529753600000) TO (297520437657600000);   -- 2026-01-01 .. 2026-04-01
CREATE TABLE noetl.event_2026_q2 PARTITION OF noetl.event
    FOR VALUES FROM (297520437657600000) TO (330497733427200000);   -- 2026-04-01 .. 2026-07-01
CREATE TABLE noetl.event_2026_q3 PARTITION OF noetl.event
    FOR VALUES FROM (330497733427200000) TO (363837417062400000);   -- 2026-07-01 .. 2026-10-01
CREATE TABLE noetl.event_2026_q4 PARTITION OF noetl.event
    FOR VALUES FROM (363837417062400000) TO (397177100697600000);   -- 2026-10-01 .. 2027-01-01
CREATE TABLE noetl.event_2027_h1 PARTITION OF noetl.event
    FOR VALUES FROM (397177100697600000) TO (462769304371200000);   -- 2027-01-01 .. 2027-07-01
CREATE TABLE noetl.event_2027_h2 PARTITION OF noetl.event
    FOR VALUES FROM (462769304371200000) TO (529448671641600000);   -- 2027-07-01 .. 2028-01-01
-- should stay empty; a row here blocks creating the partition that would cover it (§10.22)
CREATE TABLE noetl.event_default PARTITION OF noetl.event DEFAULT;

-- Lean on purpose: this is the ingest hot path, and each extra index costs throughput (§2.8.4).
-- ordered reads of one execution's log, SSE resume by position (NULLs allowed)
CREATE UNIQUE INDEX event_stream_uidx ON noetl.event (execution_id, stream_version);
-- at most one of each lifecycle event per command; command.started deliberately not included
CREATE UNIQUE INDEX event_command_lifecycle_uidx ON noetl.event (execution_id, command_id, event_type)
    WHERE command_id IS NOT NULL
      AND event_type IN ('call.done', 'call.error', 'step.exit', 'command.completed', 'command.failed');
-- per-event idempotency keys
CREATE UNIQUE INDEX event_idempotency_uidx ON noetl.event (execution_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Legacy alias for tooling that reads the reference's name.
CREATE VIEW noetl.event_log AS SELECT * FROM noetl.event;
