-- requires: shard
-- A shard-only database has exactly the shard tables of data-model.md plus the common identity
-- objects: every column with its type, nullability and default (hazard 10.3), the partitions,
-- keys and indexes other functions rely on, and none of the cluster tables (hazard 10.2).
BEGIN;
-- noetl first on the path, wherever pgTAP is installed: PostgreSQL then prints every noetl name
-- (defaults, partitions) unqualified, the same way in every test environment
SET LOCAL search_path = noetl, public;
SELECT plan(709);

CREATE TEMP TABLE spec_column (
    position    serial,
    tbl         name    NOT NULL,
    col         name    NOT NULL,
    typ         text    NOT NULL,
    not_null    boolean NOT NULL,
    col_default text    -- NULL: no default; '(generated)': a stored generated column
) ON COMMIT DROP;

-- Transcribed from the column tables of data-model.md, in the spec's column order.
INSERT INTO spec_column (tbl, col, typ, not_null, col_default) VALUES
    -- noetl.shard_info (data-model.md §3.1)
    ('shard_info', 'singleton', 'boolean', true , 'true'),
    ('shard_info', 'is_cluster', 'boolean', true , NULL),
    ('shard_info', 'is_shard', 'boolean', true , NULL),
    ('shard_info', 'shard_index', 'integer', false, NULL),
    ('shard_info', 'shard_count', 'integer', true , NULL),
    ('shard_info', 'machine_id', 'integer', true , NULL),
    ('shard_info', 'database_uuid', 'uuid', true , 'gen_random_uuid()'),
    ('shard_info', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('shard_info', 'updated_at', 'timestamp with time zone', true , 'now()'),
    -- noetl.execution (data-model.md §2.7)
    ('execution', 'execution_id', 'bigint', true , NULL),
    ('execution', 'catalog_id', 'bigint', true , NULL),
    ('execution', 'parent_execution_id', 'bigint', false, NULL),
    ('execution', 'status', 'character varying', true , 'RUNNING'),
    ('execution', 'last_event_type', 'character varying', false, NULL),
    ('execution', 'last_node_name', 'character varying', false, NULL),
    ('execution', 'last_event_id', 'bigint', false, NULL),
    ('execution', 'start_time', 'timestamp with time zone', false, NULL),
    ('execution', 'end_time', 'timestamp with time zone', false, NULL),
    ('execution', 'error', 'text', false, NULL),
    ('execution', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('execution', 'updated_at', 'timestamp with time zone', true , 'now()'),
    ('execution', 'state', 'jsonb', false, NULL),
    ('execution', 'path', 'text', true , NULL),
    ('execution', 'version', 'integer', true , NULL),
    ('execution', 'kind', 'text', true , 'playbook'),
    ('execution', 'plan', 'jsonb', true , NULL),
    ('execution', 'plan_format', 'integer', true , NULL),
    ('execution', 'workload', 'jsonb', true , '{}'),
    ('execution', 'env', 'jsonb', true , '{}'),
    ('execution', 'ctx', 'jsonb', true , '{}'),
    ('execution', 'server_url', 'text', true , NULL),
    ('execution', 'command_subject', 'text', true , NULL),
    ('execution', 'event_count', 'bigint', true , '0'),
    ('execution', 'terminal_event_id', 'bigint', false, NULL),
    ('execution', 'result', 'jsonb', false, NULL),
    -- noetl.event (data-model.md §2.8.2)
    ('event', 'execution_id', 'bigint', true , NULL),
    ('event', 'catalog_id', 'bigint', true , NULL),
    ('event', 'event_id', 'bigint', true , NULL),
    ('event', 'parent_event_id', 'bigint', false, NULL),
    ('event', 'parent_execution_id', 'bigint', false, NULL),
    ('event', 'created_at', 'timestamp with time zone', true , 'clock_timestamp()'),
    ('event', 'event_type', 'character varying', true , NULL),
    ('event', 'node_id', 'character varying', false, NULL),
    ('event', 'node_name', 'character varying', false, NULL),
    ('event', 'node_type', 'character varying', false, NULL),
    ('event', 'status', 'character varying', true , NULL),
    ('event', 'duration', 'double precision', false, NULL),
    ('event', 'context', 'jsonb', false, NULL),
    ('event', 'result', 'jsonb', false, NULL),
    ('event', 'meta', 'jsonb', false, NULL),
    ('event', 'error', 'text', false, NULL),
    ('event', 'current_index', 'integer', false, NULL),
    ('event', 'current_item', 'text', false, NULL),
    ('event', 'worker_id', 'character varying', false, NULL),
    ('event', 'distributed_state', 'character varying', false, NULL),
    ('event', 'context_key', 'character varying', false, NULL),
    ('event', 'context_value', 'text', false, NULL),
    ('event', 'trace_component', 'jsonb', false, NULL),
    ('event', 'stack_trace', 'text', false, NULL),
    ('event', 'tenant_id', 'text', true , 'default'),
    ('event', 'organization_id', 'text', true , 'default'),
    ('event', 'stream_id', 'text', false, NULL),
    ('event', 'stream_version', 'bigint', false, NULL),
    ('event', 'aggregate_id', 'text', false, NULL),
    ('event', 'aggregate_type', 'text', false, NULL),
    ('event', 'schema_name', 'text', false, NULL),
    ('event', 'schema_version', 'integer', true , '1'),
    ('event', 'event_time', 'timestamp with time zone', true , 'clock_timestamp()'),
    ('event', 'ingest_time', 'timestamp with time zone', true , 'clock_timestamp()'),
    ('event', 'producer', 'text', false, NULL),
    ('event', 'causation_id', 'text', false, NULL),
    ('event', 'correlation_id', 'text', false, NULL),
    ('event', 'idempotency_key', 'text', false, NULL),
    ('event', 'payload_ref', 'jsonb', false, NULL),
    ('event', 'envelope_checksum', 'text', false, NULL),
    ('event', 'command_id', 'bigint', false, NULL),
    ('event', 'stage_id', 'bigint', false, NULL),
    ('event', 'frame_id', 'bigint', false, NULL),
    -- noetl.command (data-model.md §2.9)
    ('command', 'command_id', 'bigint', true , NULL),
    ('command', 'event_id', 'bigint', true , NULL),
    ('command', 'execution_id', 'bigint', true , NULL),
    ('command', 'catalog_id', 'bigint', true , NULL),
    ('command', 'parent_execution_id', 'bigint', false, NULL),
    ('command', 'parent_command_id', 'bigint', false, NULL),
    ('command', 'step_name', 'text', true , NULL),
    ('command', 'tool_kind', 'text', false, NULL),
    ('command', 'status', 'text', true , 'PENDING'),
    ('command', 'worker_id', 'text', false, NULL),
    ('command', 'claimed_at', 'timestamp with time zone', false, NULL),
    ('command', 'started_at', 'timestamp with time zone', false, NULL),
    ('command', 'completed_at', 'timestamp with time zone', false, NULL),
    ('command', 'attempt', 'integer', true , '1'),
    ('command', 'context', 'jsonb', false, NULL),
    ('command', 'context_key', 'text', false, NULL),
    ('command', 'loop_event_id', 'text', false, NULL),
    ('command', 'iter_index', 'integer', false, NULL),
    ('command', 'meta', 'jsonb', false, NULL),
    ('command', 'result', 'jsonb', false, NULL),
    ('command', 'error', 'text', false, NULL),
    ('command', 'latest_event_id', 'bigint', false, NULL),
    ('command', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('command', 'updated_at', 'timestamp with time zone', true , 'now()'),
    ('command', 'stage_id', 'bigint', false, NULL),
    ('command', 'frame_id', 'bigint', false, NULL),
    ('command', 'step_epoch', 'integer', true , '1'),
    ('command', 'heartbeat_at', 'timestamp with time zone', false, NULL),
    -- noetl.outbox (data-model.md §8.2)
    ('outbox', 'outbox_id', 'bigint', true , 'noetl.snowflake_id()'),
    ('outbox', 'execution_id', 'bigint', true , NULL),
    ('outbox', 'event_id', 'bigint', true , NULL),
    ('outbox', 'subject', 'text', true , NULL),
    ('outbox', 'payload', 'jsonb', true , NULL),
    ('outbox', 'payload_bytes', 'bytea', false, NULL),
    ('outbox', 'payload_codec', 'text', true , 'json'),
    ('outbox', 'status', 'text', true , 'PENDING'),
    ('outbox', 'attempts', 'integer', true , '0'),
    ('outbox', 'available_at', 'timestamp with time zone', true , 'now()'),
    ('outbox', 'locked_at', 'timestamp with time zone', false, NULL),
    ('outbox', 'published_at', 'timestamp with time zone', false, NULL),
    ('outbox', 'last_error', 'text', false, NULL),
    ('outbox', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('outbox', 'updated_at', 'timestamp with time zone', true , 'now()'),
    ('outbox', 'msg_id', 'text', true , NULL),
    ('outbox', 'republished', 'integer', true , '0'),
    -- noetl.outbox_listener (data-model.md §3.6)
    ('outbox_listener', 'channel', 'text', true , NULL),
    ('outbox_listener', 'idle', 'boolean', true , 'false'),
    ('outbox_listener', 'listener', 'text', false, NULL),
    ('outbox_listener', 'idle_since', 'timestamp with time zone', false, NULL),
    ('outbox_listener', 'updated_at', 'timestamp with time zone', true , 'now()'),
    -- noetl.step_state (data-model.md §3.3)
    ('step_state', 'execution_id', 'bigint', true , NULL),
    ('step_state', 'step_name', 'text', true , NULL),
    ('step_state', 'status', 'text', true , NULL),
    ('step_state', 'epoch', 'integer', true , '0'),
    ('step_state', 'enter_event_id', 'bigint', false, NULL),
    ('step_state', 'trigger_step', 'text', false, NULL),
    ('step_state', 'arrivals', 'text[]', true , '{}'),
    ('step_state', 'completions', 'integer', true , '0'),
    ('step_state', 'result_event_id', 'bigint', false, NULL),
    ('step_state', 'first_completed_event_id', 'bigint', false, NULL),
    ('step_state', 'args', 'jsonb', false, NULL),
    ('step_state', 'is_loop', 'boolean', true , 'false'),
    ('step_state', 'loop_mode', 'text', false, NULL),
    ('step_state', 'iterator', 'text', false, NULL),
    ('step_state', 'max_in_flight', 'integer', false, NULL),
    ('step_state', 'iterations_expected', 'integer', false, NULL),
    ('step_state', 'iterations_dispatched', 'integer', true , '0'),
    ('step_state', 'iterations_completed', 'integer', true , '0'),
    ('step_state', 'iterations_failed', 'integer', true , '0'),
    ('step_state', 'in_flight', 'integer', false, '(generated)'),
    ('step_state', 'result', 'jsonb', false, NULL),
    ('step_state', 'error', 'text', false, NULL),
    ('step_state', 'entered_at', 'timestamp with time zone', false, NULL),
    ('step_state', 'finished_at', 'timestamp with time zone', false, NULL),
    ('step_state', 'updated_at', 'timestamp with time zone', true , 'now()'),
    -- noetl.loop_item (data-model.md §3.4)
    ('loop_item', 'execution_id', 'bigint', true , NULL),
    ('loop_item', 'step_name', 'text', true , NULL),
    ('loop_item', 'epoch', 'integer', true , NULL),
    ('loop_item', 'iter_index', 'integer', true , NULL),
    ('loop_item', 'item', 'jsonb', true , NULL),
    -- noetl.ingest_request (data-model.md §3.5)
    ('ingest_request', 'request_id', 'bigint', true , 'noetl.snowflake_id()'),
    ('ingest_request', 'execution_id', 'bigint', true , NULL),
    ('ingest_request', 'idempotency_key', 'text', false, NULL),
    ('ingest_request', 'worker_id', 'text', false, NULL),
    ('ingest_request', 'state', 'text', true , NULL),
    ('ingest_request', 'status', 'text', false, NULL),
    ('ingest_request', 'error_code', 'text', false, NULL),
    ('ingest_request', 'message', 'text', false, NULL),
    ('ingest_request', 'event_ids', 'bigint[]', true , '{}'),
    ('ingest_request', 'commands_generated', 'integer', true , '0'),
    ('ingest_request', 'child_execution_id', 'bigint', false, NULL),
    ('ingest_request', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('ingest_request', 'updated_at', 'timestamp with time zone', true , 'now()'),
    -- noetl.transient (data-model.md §2.11)
    ('transient', 'execution_id', 'bigint', true , NULL),
    ('transient', 'var_name', 'text', true , NULL),
    ('transient', 'var_type', 'text', true , NULL),
    ('transient', 'var_value', 'jsonb', true , NULL),
    ('transient', 'source_step', 'text', false, NULL),
    ('transient', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('transient', 'accessed_at', 'timestamp with time zone', true , 'now()'),
    ('transient', 'access_count', 'integer', true , '0'),
    ('transient', 'expires_at', 'timestamp with time zone', false, NULL),
    ('transient', 'scope', 'text', false, 'execution'),
    -- noetl.result_ref (data-model.md §2.12)
    ('result_ref', 'ref_id', 'bigint', true , 'noetl.snowflake_id()'),
    ('result_ref', 'ref', 'text', true , NULL),
    ('result_ref', 'execution_id', 'bigint', true , NULL),
    ('result_ref', 'parent_execution_id', 'bigint', false, NULL),
    ('result_ref', 'name', 'text', true , NULL),
    ('result_ref', 'scope', 'text', true , NULL),
    ('result_ref', 'source_step', 'text', false, NULL),
    ('result_ref', 'store_tier', 'text', true , NULL),
    ('result_ref', 'physical_uri', 'text', false, NULL),
    ('result_ref', 'content_type', 'text', false, 'application/json'),
    ('result_ref', 'bytes_size', 'bigint', false, '0'),
    ('result_ref', 'sha256', 'text', false, NULL),
    ('result_ref', 'compression', 'text', false, 'none'),
    ('result_ref', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('result_ref', 'expires_at', 'timestamp with time zone', false, NULL),
    ('result_ref', 'accessed_at', 'timestamp with time zone', false, 'now()'),
    ('result_ref', 'access_count', 'integer', false, '0'),
    ('result_ref', 'preview', 'jsonb', false, NULL),
    ('result_ref', 'extracted', 'jsonb', false, NULL),
    ('result_ref', 'correlation', 'jsonb', false, NULL),
    ('result_ref', 'meta', 'jsonb', false, NULL),
    ('result_ref', 'is_accumulated', 'boolean', false, 'false'),
    ('result_ref', 'accumulation_index', 'integer', false, NULL),
    ('result_ref', 'accumulation_manifest_ref', 'text', false, NULL),
    -- noetl.result_blob (data-model.md §3.7)
    ('result_blob', 'ref_id', 'bigint', true , NULL),
    ('result_blob', 'execution_id', 'bigint', true , NULL),
    ('result_blob', 'data', 'jsonb', true , NULL);

-- every table exists, with exactly the spec's columns
SELECT has_table('noetl', tbl, format('noetl.%s exists', tbl))
FROM spec_column GROUP BY tbl ORDER BY min(position);

SELECT columns_are('noetl', tbl, array_agg(col ORDER BY position),
                   format('noetl.%s has exactly the columns of data-model.md', tbl))
FROM spec_column GROUP BY tbl ORDER BY min(position);

-- each column's type ("tstz" = timestamp with time zone; never a naive timestamp, hazard 10.6)
SELECT col_type_is('noetl', tbl, col, typ, format('noetl.%s.%s is %s', tbl, col, typ))
FROM spec_column ORDER BY position;

-- each column's nullability
SELECT CASE WHEN not_null
            THEN col_not_null('noetl', tbl, col, format('noetl.%s.%s is NOT NULL', tbl, col))
            ELSE col_is_null('noetl', tbl, col, format('noetl.%s.%s is nullable', tbl, col))
       END
FROM spec_column ORDER BY position;

-- each column's default, or the absence of one
SELECT CASE
           WHEN col_default IS NULL THEN
               col_hasnt_default('noetl', tbl, col, format('noetl.%s.%s has no default', tbl, col))
           WHEN col_default = '(generated)' THEN
               is((SELECT a.attgenerated::text FROM pg_catalog.pg_attribute AS a
                   WHERE a.attrelid = format('noetl.%I', tbl)::regclass AND a.attname = col),
                  's', format('noetl.%s.%s is a stored generated column', tbl, col))
           ELSE  -- the spec writes noetl.snowflake_id(); visible names are printed unqualified
               col_default_is('noetl', tbl, col, regexp_replace(col_default, '^noetl\.', ''),
                              format('noetl.%s.%s defaults to %s', tbl, col, col_default))
       END
FROM spec_column ORDER BY position;


-- no cluster table in a shard-only database, and no FK crosses a database (§1.1)
SELECT hasnt_table('noetl', t, format('no cluster table noetl.%s in a shard', t))
FROM unnest(ARRAY['resource', 'catalog', 'credential', 'keychain', 'runtime', 'schedule']) AS t;

-- the only FK in a shard is result_blob -> result_ref (§2.0, §3.7)
SELECT fk_ok('noetl', 'result_blob', 'ref_id', 'noetl', 'result_ref', 'ref_id');
SELECT is((SELECT count(*)::integer FROM pg_catalog.pg_constraint AS c
           WHERE c.connamespace = 'noetl'::regnamespace AND c.contype = 'f'
             AND c.conrelid <> 'noetl.result_blob'::regclass),
          0, 'no other foreign key in a shard');
SELECT is((SELECT c.confdeltype::text FROM pg_catalog.pg_constraint AS c
           WHERE c.conrelid = 'noetl.result_blob'::regclass AND c.contype = 'f'),
          'c', 'result_blob rows are deleted with their result_ref');

-- primary keys
SELECT col_is_pk('noetl', 'shard_info', 'singleton', 'shard_info PK (singleton)');
SELECT col_is_pk('noetl', 'execution', 'execution_id', 'execution PK (execution_id)');
SELECT col_is_pk('noetl', 'event', ARRAY['execution_id', 'event_id'], 'event PK (execution_id, event_id)');
SELECT col_is_pk('noetl', 'command', ARRAY['execution_id', 'command_id'], 'command PK (execution_id, command_id)');
SELECT col_is_pk('noetl', 'outbox', 'outbox_id', 'outbox PK (outbox_id)');
SELECT col_is_pk('noetl', 'outbox_listener', 'channel', 'outbox_listener PK (channel)');
SELECT col_is_pk('noetl', 'step_state', ARRAY['execution_id', 'step_name'], 'step_state PK (execution_id, step_name)');
SELECT col_is_pk('noetl', 'loop_item', ARRAY['execution_id', 'step_name', 'epoch', 'iter_index'], 'loop_item PK');
SELECT col_is_pk('noetl', 'ingest_request', 'request_id', 'ingest_request PK (request_id)');
SELECT col_is_pk('noetl', 'transient', ARRAY['execution_id', 'var_name'], 'transient PK (execution_id, var_name)');
SELECT col_is_pk('noetl', 'result_ref', 'ref_id', 'result_ref PK (ref_id)');
SELECT col_is_pk('noetl', 'result_blob', 'ref_id', 'result_blob PK (ref_id)');

-- the event log: range partitions of §2.8.1, exactly
SELECT is_partitioned('noetl', 'event', 'noetl.event is partitioned');
SELECT is((SELECT p.partstrat::text FROM pg_catalog.pg_partitioned_table AS p
           WHERE p.partrelid = 'noetl.event'::regclass), 'r', 'noetl.event is partitioned BY RANGE');
SELECT partitions_are('noetl', 'event',
    ARRAY['event_pre_2026', 'event_2026_q1', 'event_2026_q2', 'event_2026_q3', 'event_2026_q4',
          'event_2027_h1', 'event_2027_h2', 'event_default']::name[],
    'noetl.event has exactly the partitions of §2.8.1');

-- the command projection: 16 hash partitions
SELECT is_partitioned('noetl', 'command', 'noetl.command is partitioned');
SELECT is((SELECT p.partstrat::text FROM pg_catalog.pg_partitioned_table AS p
           WHERE p.partrelid = 'noetl.command'::regclass), 'h', 'noetl.command is partitioned BY HASH');
SELECT partitions_are('noetl', 'command',
    ARRAY(SELECT format('command_p%s', lpad(i::text, 2, '0'))::name FROM generate_series(0, 15) AS i),
    'noetl.command has partitions command_p00 .. command_p15');

-- chk_event_result_shape keeps its exact name and is VALID (§2.8.3)
SELECT has_check('noetl', 'event', 'noetl.event has a check constraint');
SELECT is((SELECT count(*)::integer FROM pg_catalog.pg_constraint AS c
           WHERE c.conrelid = 'noetl.event'::regclass AND c.conname = 'chk_event_result_shape'
             AND c.contype = 'c' AND c.convalidated),
          1, 'chk_event_result_shape exists under that exact name and is valid');
SELECT throws_ok(
    $$INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status, result)
      VALUES (1, 1, 1, 'call.done', 'COMPLETED', '{"status": "COMPLETED", "data": {}}')$$,
    '23514', NULL, 'a result with a key other than status/reference/context violates the check');

-- event indexes: lean on purpose, exactly the four of §2.8.4
SELECT indexes_are('noetl', 'event',
    ARRAY['event_pkey', 'event_stream_uidx', 'event_command_lifecycle_uidx', 'event_idempotency_uidx'],
    'noetl.event has exactly the indexes of §2.8.4');
SELECT index_is_unique('noetl', 'event', 'event_stream_uidx', 'event_stream_uidx is unique');
SELECT index_is_unique('noetl', 'event', 'event_command_lifecycle_uidx', 'event_command_lifecycle_uidx is unique');
SELECT index_is_unique('noetl', 'event', 'event_idempotency_uidx', 'event_idempotency_uidx is unique');
SELECT has_index('noetl', 'event', 'event_command_lifecycle_uidx', ARRAY['execution_id', 'command_id', 'event_type'],
                 'event_command_lifecycle_uidx on (execution_id, command_id, event_type)');
SELECT is((SELECT pg_catalog.pg_get_expr(i.indpred, i.indrelid) FROM pg_catalog.pg_index AS i
           WHERE i.indexrelid = 'noetl.event_command_lifecycle_uidx'::regclass)
          ~ 'command\.completed' AND NOT ((SELECT pg_catalog.pg_get_expr(i.indpred, i.indrelid)
           FROM pg_catalog.pg_index AS i WHERE i.indexrelid = 'noetl.event_command_lifecycle_uidx'::regclass)
          ~ 'command\.started'),
          true, 'the lifecycle index covers command.completed but not command.started');

-- command indexes (§2.9)
SELECT has_index('noetl', 'command', 'command_id_idx', ARRAY['command_id'], 'command_id_idx on (command_id)');
SELECT has_index('noetl', 'command', 'command_step_idx', ARRAY['execution_id', 'step_name', 'step_epoch', 'iter_index'],
                 'command_step_idx on (execution_id, step_name, step_epoch, iter_index)');
SELECT has_index('noetl', 'command', 'command_open_idx', ARRAY['status', 'updated_at'], 'command_open_idx on (status, updated_at)');

-- execution: fillfactor 80 keeps per-event updates HOT (§2.7); its list indexes
SELECT ok((SELECT c.reloptions FROM pg_catalog.pg_class AS c WHERE c.oid = 'noetl.execution'::regclass)
          @> ARRAY['fillfactor=80'], 'noetl.execution has fillfactor 80');
SELECT has_index('noetl', 'execution', 'execution_start_idx', ARRAY['start_time', 'execution_id'], 'execution list index');
SELECT has_index('noetl', 'execution', 'execution_status_start_idx', ARRAY['status', 'start_time'], 'execution status index');
SELECT has_index('noetl', 'execution', 'execution_parent_idx', ARRAY['parent_execution_id'], 'execution parent index');
SELECT has_index('noetl', 'execution', 'execution_catalog_idx', ARRAY['catalog_id'], 'execution catalog index');

-- outbox (§8.2): the upsert target and the claim indexes
SELECT col_is_unique('noetl', 'outbox', ARRAY['execution_id', 'event_id'], 'outbox is unique on (execution_id, event_id)');
SELECT has_index('noetl', 'outbox', 'outbox_ready_idx', ARRAY['outbox_id'], 'outbox_ready_idx on (outbox_id)');
SELECT has_index('noetl', 'outbox', 'outbox_inflight_idx', ARRAY['locked_at'], 'outbox_inflight_idx on (locked_at)');

-- step_state: the only index is the PK (§3.3)
SELECT indexes_are('noetl', 'step_state', ARRAY['step_state_pkey'], 'step_state has only its PK');

-- ingest_request, transient, result_ref
SELECT has_index('noetl', 'ingest_request', 'ingest_request_idempotency_uidx', ARRAY['execution_id', 'idempotency_key'],
                 'ingest_request idempotency index');
SELECT index_is_unique('noetl', 'ingest_request', 'ingest_request_idempotency_uidx', 'ingest_request idempotency index is unique');
SELECT has_index('noetl', 'transient', 'transient_expires_at_idx', ARRAY['expires_at'], 'transient expires_at index');
SELECT col_is_unique('noetl', 'result_ref', 'ref', 'result_ref.ref is unique');
SELECT has_index('noetl', 'result_ref', 'result_ref_execution_name_idx', ARRAY['execution_id', 'name'], 'result_ref (execution_id, name) index');
SELECT has_index('noetl', 'result_ref', 'result_ref_expires_at_idx', ARRAY['expires_at'], 'result_ref expires_at index');

-- the legacy views (§2.13) show every column of their table
SELECT has_view('noetl', 'event_log', 'view noetl.event_log exists');
SELECT has_view('noetl', 'temp_ref', 'view noetl.temp_ref exists');
SELECT set_eq($$SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = 'noetl.event_log'::regclass AND attnum > 0$$,
              $$SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = 'noetl.event'::regclass AND attnum > 0 AND NOT attisdropped$$,
              'event_log has the columns of event');
SELECT set_eq($$SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = 'noetl.temp_ref'::regclass AND attnum > 0$$,
              $$SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = 'noetl.result_ref'::regclass AND attnum > 0 AND NOT attisdropped$$,
              'temp_ref has the columns of result_ref');

-- the outbox_listener seed row (§3.6)
SELECT results_eq($$SELECT channel, idle FROM noetl.outbox_listener$$,
                  $$VALUES ('noetl_outbox'::text, false)$$, 'outbox_listener holds the single row noetl_outbox');

-- the id sequence (§5.3): bigint, CACHE 1
SELECT has_sequence('noetl', 'snowflake_seq', 'sequence noetl.snowflake_seq exists');
SELECT is((SELECT format('%s cache %s', s.seqtypid::regtype, s.seqcache) FROM pg_catalog.pg_sequence AS s
           WHERE s.seqrelid = 'noetl.snowflake_seq'::regclass),
          'bigint cache 1', 'snowflake_seq is a bigint sequence with CACHE 1');

SELECT * FROM finish();
ROLLBACK;
