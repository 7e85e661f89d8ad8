-- Queries of the shard map (noetl_pg/routing.py).

-- name: identity
-- What a database records about itself, and the session time zone (data-model §1.4, §1.5).
SELECT is_cluster, is_shard, shard_index, shard_count, machine_id,
       database_uuid, current_setting('TimeZone')
FROM noetl.shard_info;
