-- Queries of the migrate command (noetl_pg/migrate.py).

-- name: lock
-- Session advisory lock (0x6E6F65, 1): concurrent migrators of one database queue up.
SELECT pg_advisory_lock(7237477, 1);

-- name: unlock
-- Releases the migrate lock taken by `lock`.
SELECT pg_advisory_unlock(7237477, 1);

-- name: bootstrap
-- The schema and the bookkeeping table every other step records into.
CREATE SCHEMA IF NOT EXISTS noetl;
CREATE TABLE IF NOT EXISTS noetl.schema_migration (
    migration_set TEXT        NOT NULL CHECK (migration_set IN ('common', 'cluster', 'shard')),
    version       INTEGER     NOT NULL,
    name          TEXT        NOT NULL,
    checksum      TEXT        NOT NULL,
    applied_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_by    TEXT,
    PRIMARY KEY (migration_set, version)
);

-- name: bookkeeping_exists
-- Whether this database was ever migrated (without creating anything).
SELECT to_regclass('noetl.schema_migration') IS NOT NULL AS present;

-- name: applied
-- Every recorded migration with its checksum, to compare with the files on disk.
SELECT migration_set, version, name, checksum, applied_at
FROM noetl.schema_migration
ORDER BY migration_set, version;

-- name: record
-- Records one applied migration file, in the same transaction as the file itself.
INSERT INTO noetl.schema_migration (migration_set, version, name, checksum, applied_by)
VALUES (%(migration_set)s, %(version)s, %(name)s, %(checksum)s, %(applied_by)s);

-- name: identity
-- The database's recorded role, or no row before its first migration.
SELECT is_cluster, is_shard, shard_index, shard_count, machine_id
FROM noetl.shard_info
WHERE to_regclass('noetl.shard_info') IS NOT NULL;

-- name: identity_table_exists
-- Whether noetl.shard_info exists yet (the identity query needs the table to parse).
SELECT to_regclass('noetl.shard_info') IS NOT NULL AS present;

-- name: record_identity
-- Writes the singleton identity row on the first migration of a database.
INSERT INTO noetl.shard_info (is_cluster, is_shard, shard_index, shard_count, machine_id)
VALUES (%(is_cluster)s, %(is_shard)s, %(shard_index)s, %(shard_count)s, %(machine_id)s)
ON CONFLICT (singleton) DO NOTHING;

-- name: configure_database
-- Database-level defaults: UTC for ad-hoc sessions, the outbox gate key count on shards.
SELECT noetl.configure_database(p_outbox_gate_keys => %(gate_keys)s);

-- name: ensure_event_partitions
-- Quarterly event partitions ahead of time (data-model §2.8.1).
SELECT noetl.ensure_event_partitions() AS created;
