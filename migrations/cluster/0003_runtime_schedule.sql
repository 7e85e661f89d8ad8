-- Worker pools, server and broker registrations; schedules (data-model.md §2.5, §2.6).
-- Cluster database.

-- One row per (kind, name), upserted by runtime_register and kept when offline (never deleted).
-- status is not CHECKed: writers store ready/offline/degraded, but readers must also accept
-- the reference's 'active' in existing rows (§4.5).
CREATE TABLE noetl.runtime (
    runtime_id   bigint      NOT NULL DEFAULT noetl.snowflake_id(),
    name         text        NOT NULL,
    kind         text        NOT NULL,
    uri          text,
    status       text        NOT NULL,
    labels       jsonb,
    capabilities jsonb,
    capacity     integer,
    runtime      jsonb,
    heartbeat    timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT runtime_pkey PRIMARY KEY (runtime_id),
    CONSTRAINT runtime_kind_name_key UNIQUE (kind, name),
    CONSTRAINT runtime_kind_chk CHECK (kind IN ('worker_pool', 'server_api', 'broker'))
);

CREATE INDEX runtime_kind_idx ON noetl.runtime (kind);
CREATE INDEX runtime_status_idx ON noetl.runtime (status);

-- Kept with the reference columns so the layout is recognisable; the product does not write it.
CREATE TABLE noetl.schedule (
    schedule_id      bigint      NOT NULL DEFAULT noetl.snowflake_id(),
    playbook_path    text        NOT NULL,
    playbook_version text,
    cron             text,
    interval_seconds integer,
    enabled          boolean     NOT NULL DEFAULT true,
    timezone         text                 DEFAULT 'UTC',
    next_run_at      timestamptz,
    last_run_at      timestamptz,
    last_status      text,
    input_payload    jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    meta             jsonb,
    CONSTRAINT schedule_pkey PRIMARY KEY (schedule_id)
);

CREATE INDEX schedule_next_run_idx ON noetl.schedule (next_run_at) WHERE enabled;
CREATE INDEX schedule_playbook_path_idx ON noetl.schedule (playbook_path);
