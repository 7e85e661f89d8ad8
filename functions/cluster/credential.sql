-- Credential functions (data-model.md §9.2, §7). Cluster database. data_encrypted is an opaque
-- envelope produced and opened by the app; nothing here encrypts or decrypts.

-- noetl.credential_upsert(...) -> noetl.credential
--
-- Upserts on name: an update keeps id and created_at and replaces every other field, bumping
-- updated_at. A repeat call with the same arguments changes only updated_at.
CREATE OR REPLACE FUNCTION noetl.credential_upsert(
    p_name text,
    p_type text,
    p_data_encrypted text,
    p_meta jsonb,
    p_tags text[],
    p_description text,
    p_schema jsonb DEFAULT NULL
)
RETURNS noetl.credential
LANGUAGE sql
SET search_path = ''
AS $$
    INSERT INTO noetl.credential AS c (name, type, data_encrypted, schema, meta, tags, description)
    VALUES (pg_catalog.btrim(p_name), coalesce(p_type, 'generic'), p_data_encrypted, p_schema,
            p_meta, coalesce(p_tags, '{}'::text[]), p_description)
    ON CONFLICT (name) DO UPDATE
        SET type = excluded.type,
            data_encrypted = excluded.data_encrypted,
            schema = excluded.schema,
            meta = excluded.meta,
            tags = excluded.tags,
            description = excluded.description,
            updated_at = pg_catalog.now()
    RETURNING c.*
$$;

-- noetl.credential_get(p_identifier) -> noetl.credential
--
-- An all-digit identifier is tried as an id first, then as a name; anything else is a name.
-- No row when nothing matches.
CREATE OR REPLACE FUNCTION noetl.credential_get(p_identifier text)
RETURNS SETOF noetl.credential
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    IF p_identifier ~ '^[0-9]{1,19}$' AND p_identifier::numeric <= 9223372036854775807 THEN
        RETURN QUERY SELECT c.* FROM noetl.credential AS c WHERE c.id = p_identifier::numeric::bigint;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT c.* FROM noetl.credential AS c WHERE c.name = p_identifier;
END
$$;

-- noetl.credential_list(p_type, p_q) -> SETOF noetl.credential
--
-- Exact type when given; p_q matched case-insensitively as a substring of name or description.
-- Ordered by name.
CREATE OR REPLACE FUNCTION noetl.credential_list(p_type text DEFAULT NULL, p_q text DEFAULT NULL)
RETURNS SETOF noetl.credential
LANGUAGE sql
STABLE
SET search_path = ''
AS $$
    SELECT c.* FROM noetl.credential AS c
    WHERE (p_type IS NULL OR c.type = p_type)
      AND (p_q IS NULL
           OR pg_catalog.strpos(pg_catalog.lower(c.name), pg_catalog.lower(p_q)) > 0
           OR pg_catalog.strpos(pg_catalog.lower(coalesce(c.description, '')), pg_catalog.lower(p_q)) > 0)
    ORDER BY c.name
$$;

-- noetl.credential_delete(p_identifier) -> bigint
--
-- Same lookup as credential_get; returns the deleted id, or NULL when nothing matched.
CREATE OR REPLACE FUNCTION noetl.credential_delete(p_identifier text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_id bigint;
BEGIN
    SELECT g.id INTO v_id FROM noetl.credential_get(p_identifier) AS g;
    IF v_id IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM noetl.credential AS c WHERE c.id = v_id;
    RETURN v_id;
END
$$;
