-- Name: command command_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command
    ADD CONSTRAINT command_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
)
PARTITION BY HASH (execution_id);
ALTER TABLE ONLY noetl.command ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_id_idx ON ONLY noetl.command USING btree (command_id);
-- Name: command_open_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_open_idx ON ONLY noetl.command USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p00 command_p00_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p00
    ADD CONSTRAINT command_p00_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p00; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p00 FOR VALUES WITH (modulus 16, remainder 0);
-- Name: command_p00; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p00 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p00 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p00_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p00_command_id_idx;
-- Name: command_p00_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p00_command_id_idx ON noetl.command_p00 USING btree (command_id);
-- Name: command_p00_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p00_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p00_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p00_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p00 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p00_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p00_pkey;
-- Name: command_p00_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p00_status_updated_at_idx;
-- Name: command_p00_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p00_status_updated_at_idx ON noetl.command_p00 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p01 command_p01_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p01
    ADD CONSTRAINT command_p01_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p01; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p01 FOR VALUES WITH (modulus 16, remainder 1);
-- Name: command_p01; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p01 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p01 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p01_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p01_command_id_idx;
-- Name: command_p01_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p01_command_id_idx ON noetl.command_p01 USING btree (command_id);
-- Name: command_p01_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p01_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p01_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p01_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p01 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p01_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p01_pkey;
-- Name: command_p01_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p01_status_updated_at_idx;
-- Name: command_p01_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p01_status_updated_at_idx ON noetl.command_p01 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p02 command_p02_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p02
    ADD CONSTRAINT command_p02_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p02; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p02 FOR VALUES WITH (modulus 16, remainder 2);
-- Name: command_p02; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p02 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p02 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p02_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p02_command_id_idx;
-- Name: command_p02_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p02_command_id_idx ON noetl.command_p02 USING btree (command_id);
-- Name: command_p02_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p02_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p02_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p02_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p02 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p02_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p02_pkey;
-- Name: command_p02_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p02_status_updated_at_idx;
-- Name: command_p02_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p02_status_updated_at_idx ON noetl.command_p02 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p03 command_p03_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p03
    ADD CONSTRAINT command_p03_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p03; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p03 FOR VALUES WITH (modulus 16, remainder 3);
-- Name: command_p03; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p03 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p03 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p03_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p03_command_id_idx;
-- Name: command_p03_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p03_command_id_idx ON noetl.command_p03 USING btree (command_id);
-- Name: command_p03_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p03_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p03_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p03_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p03 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p03_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p03_pkey;
-- Name: command_p03_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p03_status_updated_at_idx;
-- Name: command_p03_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p03_status_updated_at_idx ON noetl.command_p03 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p04 command_p04_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p04
    ADD CONSTRAINT command_p04_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p04; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p04 FOR VALUES WITH (modulus 16, remainder 4);
-- Name: command_p04; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p04 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p04 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p04_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p04_command_id_idx;
-- Name: command_p04_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p04_command_id_idx ON noetl.command_p04 USING btree (command_id);
-- Name: command_p04_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p04_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p04_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p04_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p04 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p04_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p04_pkey;
-- Name: command_p04_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p04_status_updated_at_idx;
-- Name: command_p04_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p04_status_updated_at_idx ON noetl.command_p04 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p05 command_p05_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p05
    ADD CONSTRAINT command_p05_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p05; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p05 FOR VALUES WITH (modulus 16, remainder 5);
-- Name: command_p05; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p05 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p05 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p05_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p05_command_id_idx;
-- Name: command_p05_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p05_command_id_idx ON noetl.command_p05 USING btree (command_id);
-- Name: command_p05_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p05_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p05_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p05_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p05 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p05_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p05_pkey;
-- Name: command_p05_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p05_status_updated_at_idx;
-- Name: command_p05_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p05_status_updated_at_idx ON noetl.command_p05 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p06 command_p06_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p06
    ADD CONSTRAINT command_p06_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p06; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p06 FOR VALUES WITH (modulus 16, remainder 6);
-- Name: command_p06; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p06 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p06 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p06_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p06_command_id_idx;
-- Name: command_p06_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p06_command_id_idx ON noetl.command_p06 USING btree (command_id);
-- Name: command_p06_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p06_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p06_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p06_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p06 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p06_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p06_pkey;
-- Name: command_p06_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p06_status_updated_at_idx;
-- Name: command_p06_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p06_status_updated_at_idx ON noetl.command_p06 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p07 command_p07_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p07
    ADD CONSTRAINT command_p07_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p07; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p07 FOR VALUES WITH (modulus 16, remainder 7);
-- Name: command_p07; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p07 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p07 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p07_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p07_command_id_idx;
-- Name: command_p07_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p07_command_id_idx ON noetl.command_p07 USING btree (command_id);
-- Name: command_p07_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p07_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p07_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p07_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p07 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p07_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p07_pkey;
-- Name: command_p07_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p07_status_updated_at_idx;
-- Name: command_p07_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p07_status_updated_at_idx ON noetl.command_p07 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p08 command_p08_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p08
    ADD CONSTRAINT command_p08_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p08; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p08 FOR VALUES WITH (modulus 16, remainder 8);
-- Name: command_p08; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p08 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p08 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p08_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p08_command_id_idx;
-- Name: command_p08_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p08_command_id_idx ON noetl.command_p08 USING btree (command_id);
-- Name: command_p08_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p08_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p08_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p08_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p08 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p08_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p08_pkey;
-- Name: command_p08_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p08_status_updated_at_idx;
-- Name: command_p08_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p08_status_updated_at_idx ON noetl.command_p08 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p09 command_p09_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p09
    ADD CONSTRAINT command_p09_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p09; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p09 FOR VALUES WITH (modulus 16, remainder 9);
-- Name: command_p09; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p09 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p09 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p09_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p09_command_id_idx;
-- Name: command_p09_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p09_command_id_idx ON noetl.command_p09 USING btree (command_id);
-- Name: command_p09_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p09_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p09_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p09_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p09 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p09_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p09_pkey;
-- Name: command_p09_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p09_status_updated_at_idx;
-- Name: command_p09_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p09_status_updated_at_idx ON noetl.command_p09 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p10 command_p10_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p10
    ADD CONSTRAINT command_p10_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p10; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p10 FOR VALUES WITH (modulus 16, remainder 10);
-- Name: command_p10; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p10 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p10 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p10_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p10_command_id_idx;
-- Name: command_p10_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p10_command_id_idx ON noetl.command_p10 USING btree (command_id);
-- Name: command_p10_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p10_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p10_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p10_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p10 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p10_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p10_pkey;
-- Name: command_p10_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p10_status_updated_at_idx;
-- Name: command_p10_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p10_status_updated_at_idx ON noetl.command_p10 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p11 command_p11_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p11
    ADD CONSTRAINT command_p11_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p11; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p11 FOR VALUES WITH (modulus 16, remainder 11);
-- Name: command_p11; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p11 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p11 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p11_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p11_command_id_idx;
-- Name: command_p11_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p11_command_id_idx ON noetl.command_p11 USING btree (command_id);
-- Name: command_p11_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p11_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p11_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p11_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p11 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p11_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p11_pkey;
-- Name: command_p11_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p11_status_updated_at_idx;
-- Name: command_p11_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p11_status_updated_at_idx ON noetl.command_p11 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p12 command_p12_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p12
    ADD CONSTRAINT command_p12_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p12; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p12 FOR VALUES WITH (modulus 16, remainder 12);
-- Name: command_p12; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p12 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p12 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p12_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p12_command_id_idx;
-- Name: command_p12_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p12_command_id_idx ON noetl.command_p12 USING btree (command_id);
-- Name: command_p12_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p12_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p12_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p12_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p12 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p12_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p12_pkey;
-- Name: command_p12_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p12_status_updated_at_idx;
-- Name: command_p12_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p12_status_updated_at_idx ON noetl.command_p12 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p13 command_p13_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p13
    ADD CONSTRAINT command_p13_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p13; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p13 FOR VALUES WITH (modulus 16, remainder 13);
-- Name: command_p13; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p13 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p13 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p13_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p13_command_id_idx;
-- Name: command_p13_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p13_command_id_idx ON noetl.command_p13 USING btree (command_id);
-- Name: command_p13_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p13_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p13_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p13_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p13 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p13_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p13_pkey;
-- Name: command_p13_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p13_status_updated_at_idx;
-- Name: command_p13_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p13_status_updated_at_idx ON noetl.command_p13 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p14 command_p14_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p14
    ADD CONSTRAINT command_p14_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p14; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p14 FOR VALUES WITH (modulus 16, remainder 14);
-- Name: command_p14; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p14 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p14 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p14_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p14_command_id_idx;
-- Name: command_p14_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p14_command_id_idx ON noetl.command_p14 USING btree (command_id);
-- Name: command_p14_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p14_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p14_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p14_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p14 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p14_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p14_pkey;
-- Name: command_p14_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p14_status_updated_at_idx;
-- Name: command_p14_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p14_status_updated_at_idx ON noetl.command_p14 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_p15 command_p15_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command_p15
    ADD CONSTRAINT command_p15_pkey PRIMARY KEY (execution_id, command_id);
-- Name: command_p15; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.command ATTACH PARTITION noetl.command_p15 FOR VALUES WITH (modulus 16, remainder 15);
-- Name: command_p15; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.command_p15 (
    command_id bigint NOT NULL,
    event_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    parent_command_id bigint,
    step_name text NOT NULL,
    tool_kind text,
    status text DEFAULT 'PENDING'::text NOT NULL,
    worker_id text,
    claimed_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    attempt integer DEFAULT 1 NOT NULL,
    context jsonb,
    context_key text,
    loop_event_id text,
    iter_index integer,
    meta jsonb,
    result jsonb,
    error text,
    latest_event_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    stage_id bigint,
    frame_id bigint,
    step_epoch integer DEFAULT 1 NOT NULL,
    heartbeat_at timestamp with time zone,
    CONSTRAINT command_event_id_chk CHECK ((event_id = command_id)),
    CONSTRAINT command_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text, 'COMPLETED'::text, 'FAILED'::text, 'CANCELLED'::text])))
);
ALTER TABLE ONLY noetl.command_p15 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: command_p15_command_id_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_id_idx ATTACH PARTITION noetl.command_p15_command_id_idx;
-- Name: command_p15_command_id_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p15_command_id_idx ON noetl.command_p15 USING btree (command_id);
-- Name: command_p15_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_step_idx ATTACH PARTITION noetl.command_p15_execution_id_step_name_step_epoch_iter_index_idx;
-- Name: command_p15_execution_id_step_name_step_epoch_iter_index_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p15_execution_id_step_name_step_epoch_iter_index_idx ON noetl.command_p15 USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: command_p15_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_pkey ATTACH PARTITION noetl.command_p15_pkey;
-- Name: command_p15_status_updated_at_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.command_open_idx ATTACH PARTITION noetl.command_p15_status_updated_at_idx;
-- Name: command_p15_status_updated_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_p15_status_updated_at_idx ON noetl.command_p15 USING btree (status, updated_at) WHERE (status = ANY (ARRAY['PENDING'::text, 'CLAIMED'::text, 'RUNNING'::text]));
-- Name: command_step_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX command_step_idx ON ONLY noetl.command USING btree (execution_id, step_name, step_epoch, iter_index);
-- Name: event event_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event
    ADD CONSTRAINT event_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
)
PARTITION BY RANGE (execution_id);
ALTER TABLE ONLY noetl.event ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_2026_q1 event_2026_q1_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_2026_q1
    ADD CONSTRAINT event_2026_q1_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_2026_q1; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_2026_q1 FOR VALUES FROM ('264905529753600000') TO ('297520437657600000');
-- Name: event_2026_q1; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_2026_q1 (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_2026_q1 ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_2026_q1 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_2026_q1_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_2026_q1_execution_id_command_id_event_type_idx;
-- Name: event_2026_q1_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q1_execution_id_command_id_event_type_idx ON noetl.event_2026_q1 USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_2026_q1_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_2026_q1_execution_id_idempotency_key_idx;
-- Name: event_2026_q1_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q1_execution_id_idempotency_key_idx ON noetl.event_2026_q1 USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_2026_q1_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_2026_q1_execution_id_stream_version_idx;
-- Name: event_2026_q1_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q1_execution_id_stream_version_idx ON noetl.event_2026_q1 USING btree (execution_id, stream_version);
-- Name: event_2026_q1_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_2026_q1_pkey;
-- Name: event_2026_q2 event_2026_q2_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_2026_q2
    ADD CONSTRAINT event_2026_q2_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_2026_q2; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_2026_q2 FOR VALUES FROM ('297520437657600000') TO ('330497733427200000');
-- Name: event_2026_q2; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_2026_q2 (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_2026_q2 ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_2026_q2 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_2026_q2_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_2026_q2_execution_id_command_id_event_type_idx;
-- Name: event_2026_q2_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q2_execution_id_command_id_event_type_idx ON noetl.event_2026_q2 USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_2026_q2_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_2026_q2_execution_id_idempotency_key_idx;
-- Name: event_2026_q2_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q2_execution_id_idempotency_key_idx ON noetl.event_2026_q2 USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_2026_q2_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_2026_q2_execution_id_stream_version_idx;
-- Name: event_2026_q2_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q2_execution_id_stream_version_idx ON noetl.event_2026_q2 USING btree (execution_id, stream_version);
-- Name: event_2026_q2_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_2026_q2_pkey;
-- Name: event_2026_q3 event_2026_q3_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_2026_q3
    ADD CONSTRAINT event_2026_q3_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_2026_q3; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_2026_q3 FOR VALUES FROM ('330497733427200000') TO ('363837417062400000');
-- Name: event_2026_q3; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_2026_q3 (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_2026_q3 ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_2026_q3 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_2026_q3_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_2026_q3_execution_id_command_id_event_type_idx;
-- Name: event_2026_q3_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q3_execution_id_command_id_event_type_idx ON noetl.event_2026_q3 USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_2026_q3_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_2026_q3_execution_id_idempotency_key_idx;
-- Name: event_2026_q3_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q3_execution_id_idempotency_key_idx ON noetl.event_2026_q3 USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_2026_q3_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_2026_q3_execution_id_stream_version_idx;
-- Name: event_2026_q3_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q3_execution_id_stream_version_idx ON noetl.event_2026_q3 USING btree (execution_id, stream_version);
-- Name: event_2026_q3_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_2026_q3_pkey;
-- Name: event_2026_q4 event_2026_q4_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_2026_q4
    ADD CONSTRAINT event_2026_q4_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_2026_q4; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_2026_q4 FOR VALUES FROM ('363837417062400000') TO ('397177100697600000');
-- Name: event_2026_q4; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_2026_q4 (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_2026_q4 ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_2026_q4 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_2026_q4_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_2026_q4_execution_id_command_id_event_type_idx;
-- Name: event_2026_q4_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q4_execution_id_command_id_event_type_idx ON noetl.event_2026_q4 USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_2026_q4_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_2026_q4_execution_id_idempotency_key_idx;
-- Name: event_2026_q4_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q4_execution_id_idempotency_key_idx ON noetl.event_2026_q4 USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_2026_q4_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_2026_q4_execution_id_stream_version_idx;
-- Name: event_2026_q4_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2026_q4_execution_id_stream_version_idx ON noetl.event_2026_q4 USING btree (execution_id, stream_version);
-- Name: event_2026_q4_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_2026_q4_pkey;
-- Name: event_2027_h1 event_2027_h1_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_2027_h1
    ADD CONSTRAINT event_2027_h1_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_2027_h1; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_2027_h1 FOR VALUES FROM ('397177100697600000') TO ('462769304371200000');
-- Name: event_2027_h1; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_2027_h1 (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_2027_h1 ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_2027_h1 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_2027_h1_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_2027_h1_execution_id_command_id_event_type_idx;
-- Name: event_2027_h1_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2027_h1_execution_id_command_id_event_type_idx ON noetl.event_2027_h1 USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_2027_h1_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_2027_h1_execution_id_idempotency_key_idx;
-- Name: event_2027_h1_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2027_h1_execution_id_idempotency_key_idx ON noetl.event_2027_h1 USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_2027_h1_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_2027_h1_execution_id_stream_version_idx;
-- Name: event_2027_h1_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2027_h1_execution_id_stream_version_idx ON noetl.event_2027_h1 USING btree (execution_id, stream_version);
-- Name: event_2027_h1_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_2027_h1_pkey;
-- Name: event_2027_h2 event_2027_h2_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_2027_h2
    ADD CONSTRAINT event_2027_h2_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_2027_h2; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_2027_h2 FOR VALUES FROM ('462769304371200000') TO ('529448671641600000');
-- Name: event_2027_h2; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_2027_h2 (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_2027_h2 ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_2027_h2 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_2027_h2_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_2027_h2_execution_id_command_id_event_type_idx;
-- Name: event_2027_h2_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2027_h2_execution_id_command_id_event_type_idx ON noetl.event_2027_h2 USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_2027_h2_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_2027_h2_execution_id_idempotency_key_idx;
-- Name: event_2027_h2_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2027_h2_execution_id_idempotency_key_idx ON noetl.event_2027_h2 USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_2027_h2_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_2027_h2_execution_id_stream_version_idx;
-- Name: event_2027_h2_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_2027_h2_execution_id_stream_version_idx ON noetl.event_2027_h2 USING btree (execution_id, stream_version);
-- Name: event_2027_h2_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_2027_h2_pkey;
-- Name: event_command_lifecycle_uidx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_command_lifecycle_uidx ON ONLY noetl.event USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_default event_default_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_default
    ADD CONSTRAINT event_default_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_default; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_default DEFAULT;
-- Name: event_default; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_default (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_default ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_default ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_default_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_default_execution_id_command_id_event_type_idx;
-- Name: event_default_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_default_execution_id_command_id_event_type_idx ON noetl.event_default USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_default_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_default_execution_id_idempotency_key_idx;
-- Name: event_default_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_default_execution_id_idempotency_key_idx ON noetl.event_default USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_default_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_default_execution_id_stream_version_idx;
-- Name: event_default_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_default_execution_id_stream_version_idx ON noetl.event_default USING btree (execution_id, stream_version);
-- Name: event_default_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_default_pkey;
-- Name: event_idempotency_uidx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_idempotency_uidx ON ONLY noetl.event USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_log; Type: VIEW; Schema: noetl; Owner: -
CREATE VIEW noetl.event_log AS
 SELECT event.execution_id,
    event.catalog_id,
    event.event_id,
    event.parent_event_id,
    event.parent_execution_id,
    event.created_at,
    event.event_type,
    event.node_id,
    event.node_name,
    event.node_type,
    event.status,
    event.duration,
    event.context,
    event.result,
    event.meta,
    event.error,
    event.current_index,
    event.current_item,
    event.worker_id,
    event.distributed_state,
    event.context_key,
    event.context_value,
    event.trace_component,
    event.stack_trace,
    event.tenant_id,
    event.organization_id,
    event.stream_id,
    event.stream_version,
    event.aggregate_id,
    event.aggregate_type,
    event.schema_name,
    event.schema_version,
    event.event_time,
    event.ingest_time,
    event.producer,
    event.causation_id,
    event.correlation_id,
    event.idempotency_key,
    event.payload_ref,
    event.envelope_checksum,
    event.command_id,
    event.stage_id,
    event.frame_id
   FROM noetl.event;
-- Name: event_pre_2026 event_pre_2026_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event_pre_2026
    ADD CONSTRAINT event_pre_2026_pkey PRIMARY KEY (execution_id, event_id);
-- Name: event_pre_2026; Type: TABLE ATTACH; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.event ATTACH PARTITION noetl.event_pre_2026 FOR VALUES FROM (MINVALUE) TO ('264905529753600000');
-- Name: event_pre_2026; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.event_pre_2026 (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    event_id bigint NOT NULL,
    parent_event_id bigint,
    parent_execution_id bigint,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type character varying NOT NULL,
    node_id character varying,
    node_name character varying,
    node_type character varying,
    status character varying NOT NULL,
    duration double precision,
    context jsonb,
    result jsonb,
    meta jsonb,
    error text,
    current_index integer,
    current_item text,
    worker_id character varying,
    distributed_state character varying,
    context_key character varying,
    context_value text,
    trace_component jsonb,
    stack_trace text,
    tenant_id text DEFAULT 'default'::text NOT NULL,
    organization_id text DEFAULT 'default'::text NOT NULL,
    stream_id text,
    stream_version bigint,
    aggregate_id text,
    aggregate_type text,
    schema_name text,
    schema_version integer DEFAULT 1 NOT NULL,
    event_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    ingest_time timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    producer text,
    causation_id text,
    correlation_id text,
    idempotency_key text,
    payload_ref jsonb,
    envelope_checksum text,
    command_id bigint,
    stage_id bigint,
    frame_id bigint,
    CONSTRAINT chk_event_result_shape CHECK (((result IS NULL) OR
CASE
    WHEN (jsonb_typeof(result) <> 'object'::text) THEN false
    ELSE ((NOT (jsonb_typeof((result -> 'status'::text)) IS DISTINCT FROM 'string'::text)) AND ((result - ARRAY['status'::text, 'reference'::text, 'context'::text]) = '{}'::jsonb) AND ((NOT (result ? 'reference'::text)) OR (jsonb_typeof((result -> 'reference'::text)) = 'object'::text)) AND ((NOT (result ? 'context'::text)) OR (jsonb_typeof((result -> 'context'::text)) = 'object'::text)))
END))
);
ALTER TABLE ONLY noetl.event_pre_2026 ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.event_pre_2026 ALTER COLUMN result SET COMPRESSION lz4;
-- Name: event_pre_2026_execution_id_command_id_event_type_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_command_lifecycle_uidx ATTACH PARTITION noetl.event_pre_2026_execution_id_command_id_event_type_idx;
-- Name: event_pre_2026_execution_id_command_id_event_type_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_pre_2026_execution_id_command_id_event_type_idx ON noetl.event_pre_2026 USING btree (execution_id, command_id, event_type) WHERE ((command_id IS NOT NULL) AND ((event_type)::text = ANY ((ARRAY['call.done'::character varying, 'call.error'::character varying, 'step.exit'::character varying, 'command.completed'::character varying, 'command.failed'::character varying])::text[])));
-- Name: event_pre_2026_execution_id_idempotency_key_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_idempotency_uidx ATTACH PARTITION noetl.event_pre_2026_execution_id_idempotency_key_idx;
-- Name: event_pre_2026_execution_id_idempotency_key_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_pre_2026_execution_id_idempotency_key_idx ON noetl.event_pre_2026 USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: event_pre_2026_execution_id_stream_version_idx; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_stream_uidx ATTACH PARTITION noetl.event_pre_2026_execution_id_stream_version_idx;
-- Name: event_pre_2026_execution_id_stream_version_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_pre_2026_execution_id_stream_version_idx ON noetl.event_pre_2026 USING btree (execution_id, stream_version);
-- Name: event_pre_2026_pkey; Type: INDEX ATTACH; Schema: noetl; Owner: -
ALTER INDEX noetl.event_pkey ATTACH PARTITION noetl.event_pre_2026_pkey;
-- Name: event_stream_uidx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX event_stream_uidx ON ONLY noetl.event USING btree (execution_id, stream_version);
-- Name: execution execution_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.execution
    ADD CONSTRAINT execution_pkey PRIMARY KEY (execution_id);
-- Name: execution; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.execution (
    execution_id bigint NOT NULL,
    catalog_id bigint NOT NULL,
    parent_execution_id bigint,
    status character varying DEFAULT 'RUNNING'::character varying NOT NULL,
    last_event_type character varying,
    last_node_name character varying,
    last_event_id bigint,
    start_time timestamp with time zone,
    end_time timestamp with time zone,
    error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    state jsonb,
    path text NOT NULL,
    version integer NOT NULL,
    kind text DEFAULT 'playbook'::text NOT NULL,
    plan jsonb NOT NULL,
    plan_format integer NOT NULL,
    workload jsonb DEFAULT '{}'::jsonb NOT NULL,
    env jsonb DEFAULT '{}'::jsonb NOT NULL,
    ctx jsonb DEFAULT '{}'::jsonb NOT NULL,
    server_url text NOT NULL,
    command_subject text NOT NULL,
    event_count bigint DEFAULT 0 NOT NULL,
    terminal_event_id bigint,
    result jsonb,
    CONSTRAINT execution_status_chk CHECK (((status)::text = ANY ((ARRAY['RUNNING'::character varying, 'COMPLETED'::character varying, 'FAILED'::character varying, 'CANCELLED'::character varying])::text[]))),
    CONSTRAINT execution_terminal_chk CHECK ((((end_time IS NULL) = ((status)::text = 'RUNNING'::text)) AND ((terminal_event_id IS NULL) = ((status)::text = 'RUNNING'::text))))
)
WITH (fillfactor='80', toast_tuple_target='128');
ALTER TABLE ONLY noetl.execution ALTER COLUMN plan SET COMPRESSION lz4;
ALTER TABLE ONLY noetl.execution ALTER COLUMN workload SET COMPRESSION lz4;
-- Name: execution_catalog_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX execution_catalog_idx ON noetl.execution USING btree (catalog_id);
-- Name: execution_parent_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX execution_parent_idx ON noetl.execution USING btree (parent_execution_id) WHERE (parent_execution_id IS NOT NULL);
-- Name: execution_start_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX execution_start_idx ON noetl.execution USING btree (start_time DESC, execution_id DESC);
-- Name: execution_status_start_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX execution_status_start_idx ON noetl.execution USING btree (status, start_time DESC);
-- Name: ingest_request ingest_request_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.ingest_request
    ADD CONSTRAINT ingest_request_pkey PRIMARY KEY (request_id);
-- Name: ingest_request; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.ingest_request (
    request_id bigint DEFAULT noetl.snowflake_id() NOT NULL,
    execution_id bigint NOT NULL,
    idempotency_key text,
    worker_id text,
    state text NOT NULL,
    status text,
    error_code text,
    message text,
    event_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    commands_generated integer DEFAULT 0 NOT NULL,
    child_execution_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ingest_request_state_chk CHECK ((state = ANY (ARRAY['accepted'::text, 'processing'::text, 'completed'::text, 'failed'::text])))
);
-- Name: ingest_request_idempotency_uidx; Type: INDEX; Schema: noetl; Owner: -
CREATE UNIQUE INDEX ingest_request_idempotency_uidx ON noetl.ingest_request USING btree (execution_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
-- Name: loop_item loop_item_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.loop_item
    ADD CONSTRAINT loop_item_pkey PRIMARY KEY (execution_id, step_name, epoch, iter_index);
-- Name: loop_item; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.loop_item (
    execution_id bigint NOT NULL,
    step_name text NOT NULL,
    epoch integer NOT NULL,
    iter_index integer NOT NULL,
    item jsonb NOT NULL
);
ALTER TABLE ONLY noetl.loop_item ALTER COLUMN item SET COMPRESSION lz4;
-- Name: noetl; Type: SCHEMA; Schema: -; Owner: -
CREATE SCHEMA noetl;
-- Name: outbox outbox_execution_event_key; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.outbox
    ADD CONSTRAINT outbox_execution_event_key UNIQUE (execution_id, event_id);
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (outbox_id);
-- Name: outbox; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.outbox (
    outbox_id bigint DEFAULT noetl.snowflake_id() NOT NULL,
    execution_id bigint NOT NULL,
    event_id bigint NOT NULL,
    subject text NOT NULL,
    payload jsonb NOT NULL,
    payload_bytes bytea,
    payload_codec text DEFAULT 'json'::text NOT NULL,
    status text DEFAULT 'PENDING'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    available_at timestamp with time zone DEFAULT now() NOT NULL,
    locked_at timestamp with time zone,
    published_at timestamp with time zone,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    msg_id text NOT NULL,
    republished integer DEFAULT 0 NOT NULL,
    CONSTRAINT outbox_status_chk CHECK ((status = ANY (ARRAY['PENDING'::text, 'IN_FLIGHT'::text, 'PUBLISHED'::text, 'FAILED'::text])))
);
-- Name: outbox_inflight_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX outbox_inflight_idx ON noetl.outbox USING btree (locked_at) WHERE (status = 'IN_FLIGHT'::text);
-- Name: outbox_listener outbox_listener_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.outbox_listener
    ADD CONSTRAINT outbox_listener_pkey PRIMARY KEY (channel);
-- Name: outbox_listener; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.outbox_listener (
    channel text NOT NULL,
    idle boolean DEFAULT false NOT NULL,
    listener text,
    idle_since timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);
-- Name: outbox_ready_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX outbox_ready_idx ON noetl.outbox USING btree (outbox_id) WHERE (status = ANY (ARRAY['PENDING'::text, 'FAILED'::text]));
-- Name: result_blob result_blob_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.result_blob
    ADD CONSTRAINT result_blob_pkey PRIMARY KEY (ref_id);
-- Name: result_blob result_blob_ref_id_fkey; Type: FK CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.result_blob
    ADD CONSTRAINT result_blob_ref_id_fkey FOREIGN KEY (ref_id) REFERENCES noetl.result_ref(ref_id) ON DELETE CASCADE;
-- Name: result_blob; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.result_blob (
    ref_id bigint NOT NULL,
    execution_id bigint NOT NULL,
    data jsonb NOT NULL
);
-- Name: result_ref result_ref_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.result_ref
    ADD CONSTRAINT result_ref_pkey PRIMARY KEY (ref_id);
-- Name: result_ref result_ref_ref_key; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.result_ref
    ADD CONSTRAINT result_ref_ref_key UNIQUE (ref);
-- Name: result_ref; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.result_ref (
    ref_id bigint DEFAULT noetl.snowflake_id() NOT NULL,
    ref text NOT NULL,
    execution_id bigint NOT NULL,
    parent_execution_id bigint,
    name text NOT NULL,
    scope text NOT NULL,
    source_step text,
    store_tier text NOT NULL,
    physical_uri text,
    content_type text DEFAULT 'application/json'::text,
    bytes_size bigint DEFAULT 0,
    sha256 text,
    compression text DEFAULT 'none'::text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    accessed_at timestamp with time zone DEFAULT now(),
    access_count integer DEFAULT 0,
    preview jsonb,
    extracted jsonb,
    correlation jsonb,
    meta jsonb,
    is_accumulated boolean DEFAULT false,
    accumulation_index integer,
    accumulation_manifest_ref text,
    CONSTRAINT result_ref_compression_chk CHECK ((compression = ANY (ARRAY['none'::text, 'gzip'::text, 'lz4'::text]))),
    CONSTRAINT result_ref_scope_chk CHECK ((scope = ANY (ARRAY['step'::text, 'execution'::text, 'workflow'::text, 'permanent'::text]))),
    CONSTRAINT result_ref_store_tier_chk CHECK ((store_tier = ANY (ARRAY['memory'::text, 'kv'::text, 'disk'::text, 'object'::text, 's3'::text, 'gcs'::text, 'db'::text, 'duckdb'::text, 'eventlog'::text])))
);
-- Name: result_ref_execution_name_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX result_ref_execution_name_idx ON noetl.result_ref USING btree (execution_id, name);
-- Name: result_ref_expires_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX result_ref_expires_at_idx ON noetl.result_ref USING btree (expires_at) WHERE (expires_at IS NOT NULL);
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
-- Name: step_state step_state_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.step_state
    ADD CONSTRAINT step_state_pkey PRIMARY KEY (execution_id, step_name);
-- Name: step_state; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.step_state (
    execution_id bigint NOT NULL,
    step_name text NOT NULL,
    status text NOT NULL,
    epoch integer DEFAULT 0 NOT NULL,
    enter_event_id bigint,
    trigger_step text,
    arrivals text[] DEFAULT '{}'::text[] NOT NULL,
    completions integer DEFAULT 0 NOT NULL,
    result_event_id bigint,
    first_completed_event_id bigint,
    args jsonb,
    is_loop boolean DEFAULT false NOT NULL,
    loop_mode text,
    iterator text,
    max_in_flight integer,
    iterations_expected integer,
    iterations_dispatched integer DEFAULT 0 NOT NULL,
    iterations_completed integer DEFAULT 0 NOT NULL,
    iterations_failed integer DEFAULT 0 NOT NULL,
    in_flight integer GENERATED ALWAYS AS (((iterations_dispatched - iterations_completed) - iterations_failed)) STORED,
    result jsonb,
    error text,
    entered_at timestamp with time zone,
    finished_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT step_state_loop_mode_chk CHECK ((loop_mode = ANY (ARRAY['sequential'::text, 'parallel'::text]))),
    CONSTRAINT step_state_status_chk CHECK ((status = ANY (ARRAY['WAITING'::text, 'ENTERED'::text, 'COMPLETED'::text, 'FAILED'::text, 'SKIPPED'::text, 'CANCELLED'::text])))
)
WITH (fillfactor='80');
ALTER TABLE ONLY noetl.step_state ALTER COLUMN result SET COMPRESSION lz4;
-- Name: temp_ref; Type: VIEW; Schema: noetl; Owner: -
CREATE VIEW noetl.temp_ref AS
 SELECT result_ref.ref_id,
    result_ref.ref,
    result_ref.execution_id,
    result_ref.parent_execution_id,
    result_ref.name,
    result_ref.scope,
    result_ref.source_step,
    result_ref.store_tier,
    result_ref.physical_uri,
    result_ref.content_type,
    result_ref.bytes_size,
    result_ref.sha256,
    result_ref.compression,
    result_ref.created_at,
    result_ref.expires_at,
    result_ref.accessed_at,
    result_ref.access_count,
    result_ref.preview,
    result_ref.extracted,
    result_ref.correlation,
    result_ref.meta,
    result_ref.is_accumulated,
    result_ref.accumulation_index,
    result_ref.accumulation_manifest_ref
   FROM noetl.result_ref;
-- Name: transient transient_pkey; Type: CONSTRAINT; Schema: noetl; Owner: -
ALTER TABLE ONLY noetl.transient
    ADD CONSTRAINT transient_pkey PRIMARY KEY (execution_id, var_name);
-- Name: transient; Type: TABLE; Schema: noetl; Owner: -
CREATE TABLE noetl.transient (
    execution_id bigint NOT NULL,
    var_name text NOT NULL,
    var_type text NOT NULL,
    var_value jsonb NOT NULL,
    source_step text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    accessed_at timestamp with time zone DEFAULT now() NOT NULL,
    access_count integer DEFAULT 0 NOT NULL,
    expires_at timestamp with time zone,
    scope text DEFAULT 'execution'::text,
    CONSTRAINT transient_scope_chk CHECK ((scope = ANY (ARRAY['step'::text, 'execution'::text, 'workflow'::text, 'permanent'::text]))),
    CONSTRAINT transient_var_type_chk CHECK ((var_type = ANY (ARRAY['user_defined'::text, 'step_result'::text, 'computed'::text, 'iterator_state'::text])))
);
-- Name: transient_expires_at_idx; Type: INDEX; Schema: noetl; Owner: -
CREATE INDEX transient_expires_at_idx ON noetl.transient USING btree (expires_at) WHERE (expires_at IS NOT NULL);
