-- noetl.normalize_kind(p_kind text) -> text   (data-model.md §4.7)
--
-- The catalog kind as stored in noetl.resource and noetl.catalog: trimmed, lower-cased, with
-- the aliases credentials/secret/secrets -> credential, modelcontextprotocol -> mcp,
-- playbooks -> playbook, agents -> agent. Any other value is kept lower-cased.
-- NULL, empty or blank input gives 'playbook', the last fallback of §4.7 step 1 (callers pass
-- the document's kind, else the request's resource_type).
-- IMMUTABLE: depends on its argument only.
CREATE OR REPLACE FUNCTION noetl.normalize_kind(p_kind text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT CASE k
               WHEN '' THEN 'playbook'
               WHEN 'credentials' THEN 'credential'
               WHEN 'secret' THEN 'credential'
               WHEN 'secrets' THEN 'credential'
               WHEN 'modelcontextprotocol' THEN 'mcp'
               WHEN 'playbooks' THEN 'playbook'
               WHEN 'agents' THEN 'agent'
               ELSE k
           END
    FROM (SELECT pg_catalog.lower(pg_catalog.btrim(coalesce(p_kind, ''), E' \t\n\r\f\v')) AS k) AS n
$$;
