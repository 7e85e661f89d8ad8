-- Database identity and the id sequence (data-model.md §3.1, §5.3). Applied to every database,
-- whatever its role. The runner creates schema noetl and noetl.schema_migration itself before
-- this file (it needs the bookkeeping table first); the IF NOT EXISTS keeps this file correct
-- when it is applied by hand.

CREATE SCHEMA IF NOT EXISTS noetl;

-- What this database is. The migrate command writes the single row on the first migration and
-- afterwards only verifies it; the app's startup checks read it through noetl.shard_identity()
-- (§1.5) and noetl.snowflake_id() takes its machine bits from it.
CREATE TABLE noetl.shard_info (
    singleton     boolean     NOT NULL DEFAULT true,
    is_cluster    boolean     NOT NULL,
    is_shard      boolean     NOT NULL,
    shard_index   integer,
    shard_count   integer     NOT NULL,
    machine_id    integer     NOT NULL,
    database_uuid uuid        NOT NULL DEFAULT gen_random_uuid(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shard_info_pkey PRIMARY KEY (singleton),
    -- at most one row: the key can only be true
    CONSTRAINT shard_info_singleton_chk CHECK (singleton),
    CONSTRAINT shard_info_role_chk CHECK (is_cluster OR is_shard),
    CONSTRAINT shard_info_shard_count_chk CHECK (shard_count BETWEEN 1 AND 511),
    -- a shard index exactly when the database is a shard, and inside the deployment
    CONSTRAINT shard_info_shard_index_chk CHECK (
        (shard_index IS NULL) = (NOT is_shard)
        AND (shard_index IS NULL OR (shard_index >= 0 AND shard_index < shard_count))
    ),
    -- §5.2: 512 + shard_index for a shard (also a coinciding cluster + shard 0), 1023 for a
    -- standalone cluster; any other value would let SQL-minted ids of two databases collide
    CONSTRAINT shard_info_machine_id_chk CHECK (
        machine_id BETWEEN 512 AND 1023
        AND machine_id = CASE WHEN is_shard THEN 512 + shard_index ELSE 1023 END
    )
);

-- The 12-bit sequence part of SQL-minted snowflakes (nextval % 4096). CACHE 1 on purpose: a
-- larger cache hands sessions distant blocks whose residues mod 4096 can repeat within one
-- millisecond (§5.3).
CREATE SEQUENCE noetl.snowflake_seq AS bigint CACHE 1;
