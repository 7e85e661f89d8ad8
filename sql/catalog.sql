-- Queries of the catalog routes (sanic_app/routes/catalog.py). Cluster database.

-- name: kind_info
-- The normalised kind of a document and whether its resource row marks it executable.
SELECT k.kind, coalesce(r.meta -> 'executable' = 'true'::jsonb, false) AS executable
FROM (SELECT noetl.normalize_kind(%(kind)s) AS kind) AS k
LEFT JOIN noetl.resource AS r ON r.name = k.kind;

-- name: register
-- Inserts the next version of a path (noetl.catalog_register); returns id, version and kind.
SELECT catalog_id, version, kind
FROM noetl.catalog_register(%(path)s, %(kind)s, %(content)s, %(payload)s, NULL, %(meta)s, %(plan)s, %(plan_format)s);

-- name: list
-- Every version, newest first, with the optional kind, path and agent/capability filters.
SELECT c.catalog_id, c.path, c.version, c.kind, c.content, c.layout, c.payload, c.meta, c.created_at
FROM noetl.catalog_list(%(kind)s, %(path)s) AS c
WHERE (NOT %(agent_only)s OR c.meta -> 'agent' = 'true'::jsonb)
  AND (%(capabilities)s::text[] IS NULL
       OR (jsonb_typeof(c.meta -> 'capabilities') = 'array' AND c.meta -> 'capabilities' ?| %(capabilities)s::text[]))
ORDER BY c.created_at DESC, c.catalog_id DESC;

-- name: get
-- One entry by id, by path and version, or the latest version of a path (noetl.catalog_get).
SELECT c.catalog_id, c.path, c.version, c.kind, c.content, c.layout, c.payload, c.meta, c.created_at
FROM noetl.catalog_get(%(catalog_id)s, %(path)s, %(version)s) AS c;
