-- Name: catalog catalog_kind_fkey; Type: FK CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.catalog
    ADD CONSTRAINT catalog_kind_fkey FOREIGN KEY (kind) REFERENCES noetl.resource(name);
-- Name: catalog catalog_path_version_key; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.catalog
    ADD CONSTRAINT catalog_path_version_key UNIQUE (path, version);
-- Name: catalog catalog_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.catalog
    ADD CONSTRAINT catalog_pkey PRIMARY KEY (catalog_id);
-- Name: catalog; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.catalog (
    catalog_id bigint DEFAULT noetl.snowflake_id() NOT NULL,
    path text NOT NULL,
    version integer NOT NULL,
    kind character varying NOT NULL,
    content text,
    layout jsonb,
    payload jsonb,
    meta jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    credential_id bigint,
    plan jsonb,
    plan_format integer,
    CONSTRAINT catalog_plan_format_chk CHECK ((((plan IS NULL) = (plan_format IS NULL)) AND ((plan_format IS NULL) OR (plan_format > 0)) AND ((plan IS NULL) OR (jsonb_typeof(plan) = 'object'::text)))),
    CONSTRAINT catalog_version_chk CHECK ((version >= 1))
);
-- Name: catalog_kind_created_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX catalog_kind_created_idx ON noetl.catalog USING btree (kind, created_at DESC);
-- Name: credential credential_name_key; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.credential
    ADD CONSTRAINT credential_name_key UNIQUE (name);
-- Name: credential credential_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.credential
    ADD CONSTRAINT credential_pkey PRIMARY KEY (id);
-- Name: credential; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.credential (
    id bigint DEFAULT noetl.snowflake_id() NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    data_encrypted text NOT NULL,
    schema jsonb,
    meta jsonb,
    tags text[],
    description text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT credential_name_chk CHECK (((name <> ''::text) AND (name = btrim(name))))
);
-- Name: credential_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX credential_type_idx ON noetl.credential USING btree (type);
-- Name: keychain keychain_catalog_id_fkey; Type: FK CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.keychain
    ADD CONSTRAINT keychain_catalog_id_fkey FOREIGN KEY (catalog_id) REFERENCES noetl.catalog(catalog_id);
-- Name: keychain keychain_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.keychain
    ADD CONSTRAINT keychain_pkey PRIMARY KEY (cache_key);
-- Name: keychain; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.keychain (
    cache_key text NOT NULL,
    keychain_name text NOT NULL,
    catalog_id bigint NOT NULL,
    credential_type text NOT NULL,
    cache_type text NOT NULL,
    scope_type text NOT NULL,
    execution_id bigint,
    parent_execution_id bigint,
    data_encrypted text NOT NULL,
    schema jsonb,
    expires_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    accessed_at timestamp with time zone DEFAULT now() NOT NULL,
    access_count integer DEFAULT 0,
    auto_renew boolean DEFAULT false,
    renew_config jsonb,
    CONSTRAINT keychain_cache_type_chk CHECK ((cache_type = ANY (ARRAY['secret'::text, 'token'::text]))),
    CONSTRAINT keychain_scope_type_chk CHECK ((scope_type = ANY (ARRAY['local'::text, 'global'::text, 'shared'::text])))
);
-- Name: keychain_cache_scope_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX keychain_cache_scope_idx ON noetl.keychain USING btree (cache_type, scope_type);
-- Name: keychain_catalog_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX keychain_catalog_id_idx ON noetl.keychain USING btree (catalog_id);
-- Name: keychain_execution_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX keychain_execution_id_idx ON noetl.keychain USING btree (execution_id) WHERE (execution_id IS NOT NULL);
-- Name: keychain_expires_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX keychain_expires_at_idx ON noetl.keychain USING btree (expires_at);
-- Name: keychain_name_catalog_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX keychain_name_catalog_idx ON noetl.keychain USING btree (keychain_name, catalog_id);
-- Name: keychain_name_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX keychain_name_idx ON noetl.keychain USING btree (keychain_name);
-- Name: keychain_parent_execution_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX keychain_parent_execution_id_idx ON noetl.keychain USING btree (parent_execution_id) WHERE (parent_execution_id IS NOT NULL);
-- Name: noetl; Type: SCHEMA; Schema: -; Owner: -
CREATE SCHEMA noetl;
-- Name: resource resource_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.resource
    ADD CONSTRAINT resource_pkey PRIMARY KEY (name);
-- Name: resource; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.resource (
    name character varying NOT NULL,
    meta jsonb,
    CONSTRAINT resource_name_normalised_chk CHECK ((((name)::text <> ''::text) AND ((name)::text = lower((name)::text))))
);
-- Name: runtime runtime_kind_name_key; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.runtime
    ADD CONSTRAINT runtime_kind_name_key UNIQUE (kind, name);
-- Name: runtime runtime_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.runtime
    ADD CONSTRAINT runtime_pkey PRIMARY KEY (runtime_id);
-- Name: runtime; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.runtime (
    runtime_id bigint DEFAULT noetl.snowflake_id() NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    uri text,
    status text NOT NULL,
    labels jsonb,
    capabilities jsonb,
    capacity integer,
    runtime jsonb,
    heartbeat timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT runtime_kind_chk CHECK ((kind = ANY (ARRAY['worker_pool'::text, 'server_api'::text, 'broker'::text])))
);
-- Name: runtime_kind_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX runtime_kind_idx ON noetl.runtime USING btree (kind);
-- Name: runtime_status_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX runtime_status_idx ON noetl.runtime USING btree (status);
-- Name: schedule schedule_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.schedule
    ADD CONSTRAINT schedule_pkey PRIMARY KEY (schedule_id);
-- Name: schedule; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.schedule (
    schedule_id bigint DEFAULT noetl.snowflake_id() NOT NULL,
    playbook_path text NOT NULL,
    playbook_version text,
    cron text,
    interval_seconds integer,
    enabled boolean DEFAULT true NOT NULL,
    timezone text DEFAULT 'UTC'::text,
    next_run_at timestamp with time zone,
    last_run_at timestamp with time zone,
    last_status text,
    input_payload jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    meta jsonb
);
-- Name: schedule_next_run_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX schedule_next_run_idx ON noetl.schedule USING btree (next_run_at) WHERE enabled;
-- Name: schedule_playbook_path_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX schedule_playbook_path_idx ON noetl.schedule USING btree (playbook_path);
-- Name: schema_migration schema_migration_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.schema_migration
    ADD CONSTRAINT schema_migration_pkey PRIMARY KEY (migration_set, version);
-- Name: schema_migration; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.schema_migration (
    migration_set text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_by text,
    CONSTRAINT schema_migration_migration_set_check CHECK ((migration_set = ANY (ARRAY['common'::text, 'cluster'::text, 'shard'::text])))
);
-- Name: shard_info shard_info_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.shard_info
    ADD CONSTRAINT shard_info_pkey PRIMARY KEY (singleton);
-- Name: shard_info; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.shard_info (
    singleton boolean DEFAULT true NOT NULL,
    is_cluster boolean NOT NULL,
    is_shard boolean NOT NULL,
    shard_index integer,
    shard_count integer NOT NULL,
    machine_id integer NOT NULL,
    database_uuid uuid DEFAULT gen_random_uuid() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT shard_info_machine_id_chk CHECK ((((machine_id >= 512) AND (machine_id <= 1023)) AND (machine_id =
CASE
    WHEN is_shard THEN (512 + shard_index)
    ELSE 1023
END))),
    CONSTRAINT shard_info_role_chk CHECK ((is_cluster OR is_shard)),
    CONSTRAINT shard_info_shard_count_chk CHECK (((shard_count >= 1) AND (shard_count <= 511))),
    CONSTRAINT shard_info_shard_index_chk CHECK ((((shard_index IS NULL) = (NOT is_shard)) AND ((shard_index IS NULL) OR ((shard_index >= 0) AND (shard_index < shard_count))))),
    CONSTRAINT shard_info_singleton_chk CHECK (singleton)
);
-- Name: snowflake_seq; Type: SEQUENCE; Schema: noetl; Owner: -
CREATE SEQUENCE noetl.snowflake_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
