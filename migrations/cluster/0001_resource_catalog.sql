-- Catalog kinds and the versioned catalog (data-model.md §2.1, §2.2, §4.7). Cluster database.

-- Kind registry. catalog.kind references it, so a kind must exist here before a catalog row
-- of that kind; catalog_register inserts unknown kinds first (§4.7).
CREATE TABLE noetl.resource (
    name varchar NOT NULL,
    meta jsonb,
    CONSTRAINT resource_pkey PRIMARY KEY (name),
    -- backstop for §4.7: kinds are stored normalised, never in mixed case (hazard 10.12)
    CONSTRAINT resource_name_normalised_chk CHECK (name <> '' AND name = lower(name))
);

-- The known kinds. The upsert merges meta so that a kind registered earlier keeps any other
-- keys while the seeded flags and description win.
INSERT INTO noetl.resource AS r (name, meta) VALUES
    ('playbook',   '{"description": "Executable workflow playbook.", "executable": true, "catalog": true}'),
    ('credential', '{"description": "Credential definition; secrets are stored separately, encrypted.", "executable": false, "catalog": true}'),
    ('mcp',        '{"description": "Model Context Protocol server definition.", "executable": false, "catalog": true}'),
    ('agent',      '{"description": "Executable agent playbook.", "executable": true, "catalog": true}'),
    ('memory',     '{"description": "Memory store definition.", "executable": false, "catalog": true}')
ON CONFLICT (name) DO UPDATE
    SET meta = coalesce(r.meta, '{}'::jsonb) || excluded.meta;

-- Every registration is a new immutable row; only plan/plan_format may be rewritten by a
-- recompilation (§3.8). version is INTEGER, allocated under a per-path advisory lock by
-- catalog_register (the reference's SMALLSERIAL overflowed at 32767 and raced, hazard 10.7).
CREATE TABLE noetl.catalog (
    catalog_id    bigint      NOT NULL DEFAULT noetl.snowflake_id(),
    path          text        NOT NULL,
    version       integer     NOT NULL,
    kind          varchar     NOT NULL,
    content       text,
    layout        jsonb,
    payload       jsonb,
    meta          jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    credential_id bigint,
    plan          jsonb,
    plan_format   integer,
    CONSTRAINT catalog_pkey PRIMARY KEY (catalog_id),
    -- also serves "latest version of a path" by a backward scan
    CONSTRAINT catalog_path_version_key UNIQUE (path, version),
    CONSTRAINT catalog_kind_fkey FOREIGN KEY (kind) REFERENCES noetl.resource (name),
    CONSTRAINT catalog_version_chk CHECK (version >= 1),
    -- a plan always says which format it was compiled to, and is a JSON object (§3.8)
    CONSTRAINT catalog_plan_format_chk CHECK (
        (plan IS NULL) = (plan_format IS NULL)
        AND (plan_format IS NULL OR plan_format > 0)
        AND (plan IS NULL OR jsonb_typeof(plan) = 'object')
    )
);

-- list by kind, newest first
CREATE INDEX catalog_kind_created_idx ON noetl.catalog (kind, created_at DESC);
