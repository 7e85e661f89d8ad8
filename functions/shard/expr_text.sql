-- Expression evaluator, part 2 of 4: text conversion (engine.md §3.7) and tojson (§3.8).
--
-- noetl.jinja_text(v) is Python's str() of the value as Jinja2 would print it; noetl.jinja_repr(v)
-- is Python's repr(), used for the members of lists and objects. Objects are printed in jsonb key
-- order. Only the code points listed in §3.7 are escaped by repr (deviation 7 of §3.12).

-- noetl.jinja_repr_str(s) -> Python repr of a string: quoted with ', or with " when s contains '
-- and no "; backslash, the quote, \n \r \t and the other control code points escaped.
CREATE OR REPLACE FUNCTION noetl.jinja_repr_str(p_s text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_q   text := '''';
    v_out text := '';
    v_c   text;
    v_cp  integer;
BEGIN
    IF pg_catalog.strpos(p_s, '''') > 0 AND pg_catalog.strpos(p_s, '"') = 0 THEN
        v_q := '"';
    END IF;
    IF p_s !~ E'[\\x01-\\x1f\\x7f-\\xa0\\xad\\\\'']' THEN
        RETURN v_q || p_s || v_q;
    END IF;
    FOREACH v_c IN ARRAY pg_catalog.string_to_array(p_s, NULL) LOOP
        v_cp := pg_catalog.ascii(v_c);
        IF v_c = '\' THEN
            v_out := v_out || '\\';
        ELSIF v_c = v_q THEN
            v_out := v_out || '\' || v_c;
        ELSIF v_cp = 10 THEN
            v_out := v_out || '\n';
        ELSIF v_cp = 13 THEN
            v_out := v_out || '\r';
        ELSIF v_cp = 9 THEN
            v_out := v_out || '\t';
        ELSIF v_cp < 32 OR (v_cp BETWEEN 127 AND 160) OR v_cp = 173 THEN
            v_out := v_out || '\x' || pg_catalog.lpad(pg_catalog.to_hex(v_cp), 2, '0');
        ELSE
            v_out := v_out || v_c;
        END IF;
    END LOOP;
    RETURN v_q || v_out || v_q;
END;
$$;

-- noetl.jinja_repr(v) -> Python repr of a value: strings quoted, containers recursive.
CREATE OR REPLACE FUNCTION noetl.jinja_repr(p_v jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    CASE pg_catalog.jsonb_typeof(p_v)
        WHEN 'string' THEN
            RETURN noetl.jinja_repr_str(p_v #>> '{}');
        WHEN 'array' THEN
            RETURN '[' || COALESCE((SELECT pg_catalog.string_agg(noetl.jinja_repr(e), ', ' ORDER BY n)
                                    FROM pg_catalog.jsonb_array_elements(p_v) WITH ORDINALITY AS t(e, n)), '') || ']';
        WHEN 'object' THEN
            RETURN '{' || COALESCE((SELECT pg_catalog.string_agg(noetl.jinja_repr_str(k) || ': ' || noetl.jinja_repr(e), ', ' ORDER BY n)
                                    FROM pg_catalog.jsonb_each(p_v) WITH ORDINALITY AS t(k, e, n)), '') || '}';
        ELSE
            RETURN noetl.jinja_text(p_v);
    END CASE;
END;
$$;

-- noetl.jinja_text(v) -> text(v) of §3.7: undefined '', null 'None', booleans 'True'/'False',
-- integers as digits, floats as Python repr, strings as themselves, containers as repr.
CREATE OR REPLACE FUNCTION noetl.jinja_text(p_v jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    CASE pg_catalog.jsonb_typeof(p_v)
        WHEN 'string' THEN
            RETURN p_v #>> '{}';
        WHEN 'number' THEN
            IF pg_catalog.scale(p_v::numeric) > 0 THEN
                RETURN noetl.expr_float_repr(p_v::float8);
            END IF;
            RETURN p_v::text;
        WHEN 'boolean' THEN
            RETURN CASE WHEN p_v = 'true'::jsonb THEN 'True' ELSE 'False' END;
        WHEN 'null' THEN
            RETURN 'None';
        WHEN 'array', 'object' THEN
            RETURN noetl.jinja_repr(p_v);
        ELSE
            RETURN '';
    END CASE;
END;
$$;

-- noetl.jinja_json_str(s) -> a JSON string literal as Python's json.dumps(ensure_ascii=True)
-- writes it, with Jinja's tojson escapes of < > & ' applied.
CREATE OR REPLACE FUNCTION noetl.jinja_json_str(p_s text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_out text := '';
    v_c   text;
    v_cp  integer;
BEGIN
    IF p_s ~ '^[ !#-%(-;=?-\[\]-~]*$' THEN
        RETURN '"' || p_s || '"';
    END IF;
    FOREACH v_c IN ARRAY pg_catalog.string_to_array(p_s, NULL) LOOP
        v_cp := pg_catalog.ascii(v_c);
        v_out := v_out || CASE
            WHEN v_c = '"' THEN '\"'
            WHEN v_c = '\' THEN '\\'
            WHEN v_cp = 10 THEN '\n'
            WHEN v_cp = 13 THEN '\r'
            WHEN v_cp = 9 THEN '\t'
            WHEN v_cp = 8 THEN '\b'
            WHEN v_cp = 12 THEN '\f'
            WHEN v_c IN ('<', '>', '&', '''') OR v_cp < 32 OR (v_cp BETWEEN 127 AND 65535)
                THEN '\u' || pg_catalog.lpad(pg_catalog.to_hex(v_cp), 4, '0')
            WHEN v_cp > 65535
                THEN '\u' || pg_catalog.to_hex(55296 + ((v_cp - 65536) >> 10))
                  || '\u' || pg_catalog.to_hex(56320 + ((v_cp - 65536) & 1023))
            ELSE v_c END;
    END LOOP;
    RETURN '"' || v_out || '"';
END;
$$;

-- noetl.jinja_tojson(v) -> the tojson filter (§3.8): keys sorted by code point, separators
-- ', ' and ': ', ASCII only, floats in repr form; undefined is 'null' (deviation 9).
CREATE OR REPLACE FUNCTION noetl.jinja_tojson(p_v jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    CASE pg_catalog.jsonb_typeof(p_v)
        WHEN 'string' THEN
            RETURN noetl.jinja_json_str(p_v #>> '{}');
        WHEN 'number' THEN
            RETURN noetl.jinja_text(p_v);
        WHEN 'boolean' THEN
            RETURN p_v::text;
        WHEN 'array' THEN
            RETURN '[' || COALESCE((SELECT pg_catalog.string_agg(noetl.jinja_tojson(e), ', ' ORDER BY n)
                                    FROM pg_catalog.jsonb_array_elements(p_v) WITH ORDINALITY AS t(e, n)), '') || ']';
        WHEN 'object' THEN
            RETURN '{' || COALESCE((SELECT pg_catalog.string_agg(noetl.jinja_json_str(k) || ': ' || noetl.jinja_tojson(e), ', '
                                                                 ORDER BY k COLLATE "C")
                                    FROM pg_catalog.jsonb_each(p_v) AS t(k, e)), '') || '}';
        ELSE
            RETURN 'null';
    END CASE;
END;
$$;
