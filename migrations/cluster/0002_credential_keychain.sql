-- Credentials and the keychain cache (data-model.md §2.3, §2.4, §7). Cluster database.
-- data_encrypted holds the app's AES-256-GCM envelope; the database never sees plaintext
-- secrets or the key.

CREATE TABLE noetl.credential (
    id             bigint      NOT NULL DEFAULT noetl.snowflake_id(),
    name           text        NOT NULL,
    type           text        NOT NULL,
    data_encrypted text        NOT NULL,
    schema         jsonb,
    meta           jsonb,
    tags           text[],
    description    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credential_pkey PRIMARY KEY (id),
    -- the upsert key
    CONSTRAINT credential_name_key UNIQUE (name),
    -- the alias playbooks use: trimmed and non-empty (§2.3)
    CONSTRAINT credential_name_chk CHECK (name <> '' AND name = btrim(name))
);

CREATE INDEX credential_type_idx ON noetl.credential (type);

-- Resolved secrets and tokens, keyed by noetl.keychain_cache_key (§9.2). expires_at is always
-- computed by the writer, never NULL (hazard 10.20).
CREATE TABLE noetl.keychain (
    cache_key           text        NOT NULL,
    keychain_name       text        NOT NULL,
    catalog_id          bigint      NOT NULL,
    credential_type     text        NOT NULL,
    cache_type          text        NOT NULL,
    scope_type          text        NOT NULL,
    execution_id        bigint,
    parent_execution_id bigint,
    data_encrypted      text        NOT NULL,
    schema              jsonb,
    expires_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    accessed_at         timestamptz NOT NULL DEFAULT now(),
    access_count        integer              DEFAULT 0,
    auto_renew          boolean              DEFAULT false,
    renew_config        jsonb,
    CONSTRAINT keychain_pkey PRIMARY KEY (cache_key),
    -- same database, so the FK is kept (§2.0); execution ids live in shards and get none
    CONSTRAINT keychain_catalog_id_fkey FOREIGN KEY (catalog_id) REFERENCES noetl.catalog (catalog_id),
    CONSTRAINT keychain_cache_type_chk CHECK (cache_type IN ('secret', 'token')),
    CONSTRAINT keychain_scope_type_chk CHECK (scope_type IN ('local', 'global', 'shared'))
);

-- The reference's index set, kept: the table is small and these serve the keychain routes.
CREATE INDEX keychain_execution_id_idx ON noetl.keychain (execution_id) WHERE execution_id IS NOT NULL;
CREATE INDEX keychain_parent_execution_id_idx ON noetl.keychain (parent_execution_id) WHERE parent_execution_id IS NOT NULL;
CREATE INDEX keychain_expires_at_idx ON noetl.keychain (expires_at);
CREATE INDEX keychain_cache_scope_idx ON noetl.keychain (cache_type, scope_type);
CREATE INDEX keychain_name_idx ON noetl.keychain (keychain_name);
CREATE INDEX keychain_catalog_id_idx ON noetl.keychain (catalog_id);
CREATE INDEX keychain_name_catalog_idx ON noetl.keychain (keychain_name, catalog_id);
