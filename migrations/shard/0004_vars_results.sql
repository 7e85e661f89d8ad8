-- Execution variables and the large-result store (data-model.md §2.11, §2.12, §2.13, §3.7).
-- Shard databases.

-- The single store of execution variables: set: writes, policy then.set updates and /api/vars
-- (templates see it as ctx). Variables may exist for an execution this shard does not know,
-- as the reference allowed.
CREATE TABLE noetl.transient (
    execution_id bigint      NOT NULL,
    var_name     text        NOT NULL,
    var_type     text        NOT NULL,
    -- a JSON null is stored as the JSON literal null, never as SQL NULL
    var_value    jsonb       NOT NULL,
    source_step  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    accessed_at  timestamptz NOT NULL DEFAULT now(),
    access_count integer     NOT NULL DEFAULT 0,
    expires_at   timestamptz,
    scope        text                 DEFAULT 'execution',
    CONSTRAINT transient_pkey PRIMARY KEY (execution_id, var_name),
    CONSTRAINT transient_var_type_chk CHECK (
        var_type IN ('user_defined', 'step_result', 'computed', 'iterator_state')
    ),
    CONSTRAINT transient_scope_chk CHECK (scope IN ('step', 'execution', 'workflow', 'permanent'))
);

-- expiry sweeps; the PK already covers lookups by execution
CREATE INDEX transient_expires_at_idx ON noetl.transient (expires_at) WHERE expires_at IS NOT NULL;

-- Index of stored results (PUT /api/result/{execution_id}, GET /api/result/resolve). We only
-- write store_tier 'db' with the payload in result_blob; the CHECKs keep the reference's sets.
CREATE TABLE noetl.result_ref (
    ref_id                    bigint      NOT NULL DEFAULT noetl.snowflake_id(),
    ref                       text        NOT NULL,
    execution_id              bigint      NOT NULL,
    parent_execution_id       bigint,
    name                      text        NOT NULL,
    scope                     text        NOT NULL,
    source_step               text,
    store_tier                text        NOT NULL,
    physical_uri              text,
    content_type              text                 DEFAULT 'application/json',
    bytes_size                bigint               DEFAULT 0,
    sha256                    text,
    compression               text                 DEFAULT 'none',
    created_at                timestamptz NOT NULL DEFAULT now(),
    expires_at                timestamptz,
    accessed_at               timestamptz          DEFAULT now(),
    access_count              integer              DEFAULT 0,
    preview                   jsonb,
    extracted                 jsonb,
    correlation               jsonb,
    meta                      jsonb,
    is_accumulated            boolean              DEFAULT false,
    accumulation_index        integer,
    accumulation_manifest_ref text,
    CONSTRAINT result_ref_pkey PRIMARY KEY (ref_id),
    CONSTRAINT result_ref_ref_key UNIQUE (ref),
    CONSTRAINT result_ref_scope_chk CHECK (scope IN ('step', 'execution', 'workflow', 'permanent')),
    CONSTRAINT result_ref_store_tier_chk CHECK (
        store_tier IN ('memory', 'kv', 'disk', 'object', 's3', 'gcs', 'db', 'duckdb', 'eventlog')
    ),
    CONSTRAINT result_ref_compression_chk CHECK (compression IN ('none', 'gzip', 'lz4'))
);

CREATE INDEX result_ref_execution_name_idx ON noetl.result_ref (execution_id, name);
CREATE INDEX result_ref_expires_at_idx ON noetl.result_ref (expires_at) WHERE expires_at IS NOT NULL;

-- Payloads of db-tier results, deleted with their ref (the cleanup functions delete refs).
CREATE TABLE noetl.result_blob (
    ref_id       bigint NOT NULL,
    execution_id bigint NOT NULL,
    data         jsonb  NOT NULL,
    CONSTRAINT result_blob_pkey PRIMARY KEY (ref_id),
    CONSTRAINT result_blob_ref_id_fkey FOREIGN KEY (ref_id)
        REFERENCES noetl.result_ref (ref_id) ON DELETE CASCADE
);

-- Legacy alias for tooling that reads the reference's name.
CREATE VIEW noetl.temp_ref AS SELECT * FROM noetl.result_ref;
