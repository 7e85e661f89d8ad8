-- Commands, their outbox notifications and the outbox NOTIFY bookkeeping (data-model.md §2.9,
-- §3.6, §8). Shard databases.

-- One row per issued command (one per loop iteration). command_id is the event_id of the
-- command's command.issued event (§5.7). Hash-partitioned on execution_id by PostgreSQL's own
-- hash to spread the update-heavy rows; this has nothing to do with shard routing (§6).
CREATE TABLE noetl.command (
    command_id          bigint      NOT NULL,
    event_id            bigint      NOT NULL,
    execution_id        bigint      NOT NULL,
    catalog_id          bigint      NOT NULL,
    parent_execution_id bigint,
    parent_command_id   bigint,
    step_name           text        NOT NULL,
    tool_kind           text,
    status              text        NOT NULL DEFAULT 'PENDING',
    worker_id           text,
    claimed_at          timestamptz,
    started_at          timestamptz,
    completed_at        timestamptz,
    attempt             integer     NOT NULL DEFAULT 1,
    context             jsonb,
    context_key         text,
    loop_event_id       text,
    iter_index          integer,
    meta                jsonb,
    result              jsonb,
    error               text,
    latest_event_id     bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    stage_id            bigint,
    frame_id            bigint,
    step_epoch          integer     NOT NULL DEFAULT 1,
    heartbeat_at        timestamptz,
    CONSTRAINT command_pkey PRIMARY KEY (execution_id, command_id),
    CONSTRAINT command_status_chk CHECK (
        status IN ('PENDING', 'CLAIMED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')
    ),
    -- the two columns name the same command.issued event (§2.9)
    CONSTRAINT command_event_id_chk CHECK (event_id = command_id)
) PARTITION BY HASH (execution_id);

CREATE TABLE noetl.command_p00 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE noetl.command_p01 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE noetl.command_p02 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE noetl.command_p03 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE noetl.command_p04 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE noetl.command_p05 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE noetl.command_p06 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE noetl.command_p07 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE noetl.command_p08 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE noetl.command_p09 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE noetl.command_p10 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE noetl.command_p11 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE noetl.command_p12 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE noetl.command_p13 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE noetl.command_p14 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE noetl.command_p15 PARTITION OF noetl.command FOR VALUES WITH (MODULUS 16, REMAINDER 15);

-- claim and fetch by id alone (the id does not say which hash partition); probes all 16
CREATE INDEX command_id_idx ON noetl.command (command_id);
-- per-step lookups; loop aggregation reads iterations in index order
CREATE INDEX command_step_idx ON noetl.command (execution_id, step_name, step_epoch, iter_index);
-- stale-command scans of the requeue sweep; terminal rows drop out of the index
CREATE INDEX command_open_idx ON noetl.command (status, updated_at)
    WHERE status IN ('PENDING', 'CLAIMED', 'RUNNING');

-- Transactional outbox: one row per issued command, inserted in the same transaction as the
-- command, published to NATS by the bridge after commit (D8, D9). outbox_id is a snowflake
-- (not BIGSERIAL) so ids are unique across shards and route by their machine bits (§10.10).
CREATE TABLE noetl.outbox (
    outbox_id     bigint      NOT NULL DEFAULT noetl.snowflake_id(),
    execution_id  bigint      NOT NULL,
    event_id      bigint      NOT NULL,
    subject       text        NOT NULL,
    payload       jsonb       NOT NULL,
    payload_bytes bytea,
    payload_codec text        NOT NULL DEFAULT 'json',
    status        text        NOT NULL DEFAULT 'PENDING',
    attempts      integer     NOT NULL DEFAULT 0,
    -- backoff gate; 'infinity' marks a dead row
    available_at  timestamptz NOT NULL DEFAULT now(),
    -- the lease clock of an IN_FLIGHT row
    locked_at     timestamptz,
    published_at  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Nats-Msg-Id: the decimal event_id, then <event_id>-r<k> after the k-th requeue
    msg_id        text        NOT NULL,
    republished   integer     NOT NULL DEFAULT 0,
    CONSTRAINT outbox_pkey PRIMARY KEY (outbox_id),
    -- one notification per command; the table is not partitioned, so this is a valid
    -- ON CONFLICT target for requeue_command's upsert
    CONSTRAINT outbox_execution_event_key UNIQUE (execution_id, event_id),
    CONSTRAINT outbox_status_chk CHECK (status IN ('PENDING', 'IN_FLIGHT', 'PUBLISHED', 'FAILED'))
);

-- the claim's ORDER BY outbox_id LIMIT n over claimable rows; rows in backoff are filtered out
CREATE INDEX outbox_ready_idx ON noetl.outbox (outbox_id) WHERE status IN ('PENDING', 'FAILED');
-- lease recovery of rows stuck IN_FLIGHT
CREATE INDEX outbox_inflight_idx ON noetl.outbox (locked_at) WHERE status = 'IN_FLIGHT';

-- Informational only (§3.6, worker-protocol.md §2.3): the NOTIFY gate is an advisory lock, and
-- neither the trigger nor the claim path reads this table. A parked bridge may record itself
-- here for operators.
CREATE TABLE noetl.outbox_listener (
    channel    text        NOT NULL,
    idle       boolean     NOT NULL DEFAULT false,
    listener   text,
    idle_since timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbox_listener_pkey PRIMARY KEY (channel)
);

INSERT INTO noetl.outbox_listener (channel) VALUES ('noetl_outbox');
