-- requires: cluster
-- A standalone cluster database has exactly the cluster tables of data-model.md plus the common
-- identity objects: every column with its type, nullability and default (hazard 10.3), the keys,
-- FKs and indexes of §2.1-§2.6, and none of the shard tables.
BEGIN;
-- noetl first on the path, wherever pgTAP is installed: PostgreSQL then prints every noetl name
-- (defaults, partitions) unqualified, the same way in every test environment
SET LOCAL search_path = noetl, public;
SELECT plan(282);

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
    -- noetl.resource (data-model.md §2.1)
    ('resource', 'name', 'character varying', true , NULL),
    ('resource', 'meta', 'jsonb', false, NULL),
    -- noetl.catalog (data-model.md §2.2)
    ('catalog', 'catalog_id', 'bigint', true , 'noetl.snowflake_id()'),
    ('catalog', 'path', 'text', true , NULL),
    ('catalog', 'version', 'integer', true , NULL),
    ('catalog', 'kind', 'character varying', true , NULL),
    ('catalog', 'content', 'text', false, NULL),
    ('catalog', 'layout', 'jsonb', false, NULL),
    ('catalog', 'payload', 'jsonb', false, NULL),
    ('catalog', 'meta', 'jsonb', false, NULL),
    ('catalog', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('catalog', 'credential_id', 'bigint', false, NULL),
    ('catalog', 'plan', 'jsonb', false, NULL),
    ('catalog', 'plan_format', 'integer', false, NULL),
    -- noetl.credential (data-model.md §2.3)
    ('credential', 'id', 'bigint', true , 'noetl.snowflake_id()'),
    ('credential', 'name', 'text', true , NULL),
    ('credential', 'type', 'text', true , NULL),
    ('credential', 'data_encrypted', 'text', true , NULL),
    ('credential', 'schema', 'jsonb', false, NULL),
    ('credential', 'meta', 'jsonb', false, NULL),
    ('credential', 'tags', 'text[]', false, NULL),
    ('credential', 'description', 'text', false, NULL),
    ('credential', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('credential', 'updated_at', 'timestamp with time zone', true , 'now()'),
    -- noetl.keychain (data-model.md §2.4)
    ('keychain', 'cache_key', 'text', true , NULL),
    ('keychain', 'keychain_name', 'text', true , NULL),
    ('keychain', 'catalog_id', 'bigint', true , NULL),
    ('keychain', 'credential_type', 'text', true , NULL),
    ('keychain', 'cache_type', 'text', true , NULL),
    ('keychain', 'scope_type', 'text', true , NULL),
    ('keychain', 'execution_id', 'bigint', false, NULL),
    ('keychain', 'parent_execution_id', 'bigint', false, NULL),
    ('keychain', 'data_encrypted', 'text', true , NULL),
    ('keychain', 'schema', 'jsonb', false, NULL),
    ('keychain', 'expires_at', 'timestamp with time zone', true , NULL),
    ('keychain', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('keychain', 'accessed_at', 'timestamp with time zone', true , 'now()'),
    ('keychain', 'access_count', 'integer', false, '0'),
    ('keychain', 'auto_renew', 'boolean', false, 'false'),
    ('keychain', 'renew_config', 'jsonb', false, NULL),
    -- noetl.runtime (data-model.md §2.5)
    ('runtime', 'runtime_id', 'bigint', true , 'noetl.snowflake_id()'),
    ('runtime', 'name', 'text', true , NULL),
    ('runtime', 'kind', 'text', true , NULL),
    ('runtime', 'uri', 'text', false, NULL),
    ('runtime', 'status', 'text', true , NULL),
    ('runtime', 'labels', 'jsonb', false, NULL),
    ('runtime', 'capabilities', 'jsonb', false, NULL),
    ('runtime', 'capacity', 'integer', false, NULL),
    ('runtime', 'runtime', 'jsonb', false, NULL),
    ('runtime', 'heartbeat', 'timestamp with time zone', true , 'now()'),
    ('runtime', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('runtime', 'updated_at', 'timestamp with time zone', true , 'now()'),
    -- noetl.schedule (data-model.md §2.6)
    ('schedule', 'schedule_id', 'bigint', true , 'noetl.snowflake_id()'),
    ('schedule', 'playbook_path', 'text', true , NULL),
    ('schedule', 'playbook_version', 'text', false, NULL),
    ('schedule', 'cron', 'text', false, NULL),
    ('schedule', 'interval_seconds', 'integer', false, NULL),
    ('schedule', 'enabled', 'boolean', true , 'true'),
    ('schedule', 'timezone', 'text', false, 'UTC'),
    ('schedule', 'next_run_at', 'timestamp with time zone', false, NULL),
    ('schedule', 'last_run_at', 'timestamp with time zone', false, NULL),
    ('schedule', 'last_status', 'text', false, NULL),
    ('schedule', 'input_payload', 'jsonb', false, NULL),
    ('schedule', 'created_at', 'timestamp with time zone', true , 'now()'),
    ('schedule', 'updated_at', 'timestamp with time zone', true , 'now()'),
    ('schedule', 'meta', 'jsonb', false, NULL);

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


-- no shard table in a standalone cluster database (§1.1)
SELECT hasnt_table('noetl', t, format('no shard table noetl.%s in a cluster database', t))
FROM unnest(ARRAY['execution', 'event', 'command', 'outbox', 'outbox_listener', 'transient',
                  'result_ref', 'result_blob', 'step_state', 'loop_item', 'ingest_request']) AS t;
SELECT hasnt_view('noetl', 'event_log', 'no event_log view in a cluster database');
SELECT hasnt_view('noetl', 'temp_ref', 'no temp_ref view in a cluster database');

-- primary keys
SELECT col_is_pk('noetl', 'shard_info', 'singleton', 'shard_info PK (singleton)');
SELECT col_is_pk('noetl', 'resource', 'name', 'resource PK (name)');
SELECT col_is_pk('noetl', 'catalog', 'catalog_id', 'catalog PK (catalog_id)');
SELECT col_is_pk('noetl', 'credential', 'id', 'credential PK (id)');
SELECT col_is_pk('noetl', 'keychain', 'cache_key', 'keychain PK (cache_key)');
SELECT col_is_pk('noetl', 'runtime', 'runtime_id', 'runtime PK (runtime_id)');
SELECT col_is_pk('noetl', 'schedule', 'schedule_id', 'schedule PK (schedule_id)');

-- the two FKs kept inside the cluster database (§2.0), and no other
SELECT fk_ok('noetl', 'catalog', 'kind', 'noetl', 'resource', 'name');
SELECT fk_ok('noetl', 'keychain', 'catalog_id', 'noetl', 'catalog', 'catalog_id');
SELECT is((SELECT count(*)::integer FROM pg_catalog.pg_constraint AS c
           WHERE c.connamespace = 'noetl'::regnamespace AND c.contype = 'f'),
          2, 'exactly two foreign keys in the cluster database');

-- unique keys and indexes
SELECT col_is_unique('noetl', 'catalog', ARRAY['path', 'version'], 'catalog is unique on (path, version)');
SELECT has_index('noetl', 'catalog', 'catalog_kind_created_idx', ARRAY['kind', 'created_at'], 'catalog (kind, created_at DESC) index');
SELECT col_is_unique('noetl', 'credential', 'name', 'credential.name is unique (the upsert key)');
SELECT has_index('noetl', 'credential', 'credential_type_idx', ARRAY['type'], 'credential (type) index');
SELECT col_is_unique('noetl', 'runtime', ARRAY['kind', 'name'], 'runtime is unique on (kind, name)');
SELECT has_index('noetl', 'runtime', 'runtime_kind_idx', ARRAY['kind'], 'runtime (kind) index');
SELECT has_index('noetl', 'runtime', 'runtime_status_idx', ARRAY['status'], 'runtime (status) index');
SELECT has_index('noetl', 'schedule', 'schedule_next_run_idx', ARRAY['next_run_at'], 'schedule next_run_at index');
SELECT has_index('noetl', 'schedule', 'schedule_playbook_path_idx', ARRAY['playbook_path'], 'schedule (playbook_path) index');
SELECT indexes_are('noetl', 'keychain',
    ARRAY['keychain_pkey', 'keychain_execution_id_idx', 'keychain_parent_execution_id_idx', 'keychain_expires_at_idx',
          'keychain_cache_scope_idx', 'keychain_name_idx', 'keychain_catalog_id_idx', 'keychain_name_catalog_idx'],
    'keychain keeps the reference index set of §2.4');

-- the vocabularies the cluster tables enforce (§4.8)
SELECT throws_ok($$INSERT INTO noetl.catalog (path, version, kind) VALUES ('p', 0, 'playbook')$$,
                 '23514', NULL, 'catalog.version must be >= 1');
SELECT throws_ok($$INSERT INTO noetl.catalog (path, version, kind) VALUES ('p', 1, 'no_such_kind')$$,
                 '23503', NULL, 'catalog.kind must be a resource');
SELECT throws_ok($$INSERT INTO noetl.catalog (path, version, kind, plan) VALUES ('p', 1, 'playbook', '{}')$$,
                 '23514', NULL, 'a catalog plan needs its plan_format');
SELECT throws_ok($$INSERT INTO noetl.runtime (name, kind, status) VALUES ('w', 'worker', 'ready')$$,
                 '23514', NULL, 'runtime.kind is worker_pool, server_api or broker');
SELECT throws_ok($$INSERT INTO noetl.credential (name, type, data_encrypted) VALUES (' pg ', 'postgres', '{}')$$,
                 '23514', NULL, 'credential.name is trimmed');
SELECT lives_ok($$INSERT INTO noetl.catalog (path, version, kind, plan, plan_format)
                  VALUES ('p', 1, 'playbook', '{"steps": []}', 1)$$,
                'a catalog row with its plan is accepted, its id minted by snowflake_id()');
SELECT throws_ok($$INSERT INTO noetl.keychain (cache_key, keychain_name, catalog_id, credential_type, cache_type,
                                               scope_type, data_encrypted, expires_at)
                   SELECT 'k', 'k', catalog_id, 'bearer', 'cookie', 'global', 'x', now() FROM noetl.catalog$$,
                 '23514', NULL, 'keychain.cache_type is secret or token');
SELECT throws_ok($$INSERT INTO noetl.keychain (cache_key, keychain_name, catalog_id, credential_type, cache_type,
                                               scope_type, data_encrypted, expires_at)
                   SELECT 'k', 'k', catalog_id, 'bearer', 'token', 'session', 'x', now() FROM noetl.catalog$$,
                 '23514', NULL, 'keychain.scope_type is local, global or shared');

-- the id sequence (§5.3): bigint, CACHE 1
SELECT has_sequence('noetl', 'snowflake_seq', 'sequence noetl.snowflake_seq exists');
SELECT is((SELECT format('%s cache %s', s.seqtypid::regtype, s.seqcache) FROM pg_catalog.pg_sequence AS s
           WHERE s.seqrelid = 'noetl.snowflake_seq'::regclass),
          'bigint cache 1', 'snowflake_seq is a bigint sequence with CACHE 1');

SELECT * FROM finish();
ROLLBACK;
