-- Expression evaluator, part 4 of 4 before the tree walk: filters (engine.md §3.8).
--
-- noetl.expr_filter() receives the filter input and up to three evaluated arguments, already
-- matched to the filter's parameters by noetl.expr_eval (positional or keyword), plus a bit mask
-- p_given saying which parameters were written (bit 0 = first parameter). An argument that was
-- written but evaluated to undefined is SQL NULL with its bit set. Errors raise NT001.

-- noetl.expr_parse_float(s) -> Python float(s) for the float syntax of §3.8 (ASCII digits only,
-- deviation 10): NULL when s is not a float, +-Infinity for inf and overflow, NaN for nan.
CREATE OR REPLACE FUNCTION noetl.expr_parse_float(p_s text)
RETURNS float8
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_s text := noetl.jinja_strip(p_s);
    v_n numeric;
BEGIN
    IF v_s ~* '^[+-]?(inf|infinity|nan)$' THEN
        RETURN v_s::float8;
    END IF;
    IF v_s !~ '^[+-]?(([0-9](_?[0-9])*)?\.[0-9](_?[0-9])*|[0-9](_?[0-9])*\.?)([eE][+-]?[0-9](_?[0-9])*)?$' THEN
        RETURN NULL;
    END IF;
    BEGIN
        v_n := pg_catalog.replace(v_s, '_', '')::numeric;
    EXCEPTION WHEN numeric_value_out_of_range OR program_limit_exceeded THEN
        -- beyond numeric's range: huge magnitude overflows, tiny underflows (Python float())
        RETURN CASE WHEN v_s ~* 'e-' THEN 0.0::float8
                    WHEN pg_catalog.left(v_s, 1) = '-' THEN '-Infinity'::float8
                    ELSE 'Infinity'::float8 END;
    END;
    IF pg_catalog.abs(v_n) >= 1.797693134862315807937289714053e308 THEN
        RETURN CASE WHEN v_n < 0 THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END;
    END IF;
    RETURN noetl.expr_to_f8(v_n);
END;
$$;

-- noetl.expr_f8_trunc(x) -> the integer part of a finite double, exactly (Python int(x)).
CREATE OR REPLACE FUNCTION noetl.expr_f8_trunc(p_x float8)
RETURNS numeric
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF pg_catalog.abs(p_x) < 1e15::float8 THEN
        RETURN pg_catalog.trunc(p_x)::numeric;     -- exact: fewer than 16 digits
    END IF;
    RETURN pg_catalog.trunc(noetl.expr_f8_exact(p_x));
END;
$$;

-- noetl.expr_to_int(x, default) -> the `int` filter: booleans 0/1, integers themselves, floats
-- truncated, strings by the integer then the float syntax, anything else the default;
-- undefined is an error.
CREATE OR REPLACE FUNCTION noetl.expr_to_int(p_x jsonb, p_default jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_s text;
    v_f float8;
BEGIN
    CASE pg_catalog.jsonb_typeof(p_x)
        WHEN 'number' THEN
            IF pg_catalog.scale(p_x::numeric) = 0 THEN
                RETURN p_x;
            END IF;
            RETURN pg_catalog.to_jsonb(noetl.expr_f8_trunc(p_x::float8));
        WHEN 'boolean' THEN
            RETURN CASE WHEN p_x = 'true'::jsonb THEN '1'::jsonb ELSE '0'::jsonb END;
        WHEN 'string' THEN
            v_s := noetl.jinja_strip(p_x #>> '{}');
            IF v_s ~ '^[+-]?[0-9]+(_[0-9]+)*$' AND pg_catalog.length(v_s) < 1100 THEN
                RETURN noetl.expr_check_int(pg_catalog.replace(v_s, '_', '')::numeric);
            END IF;
            v_f := noetl.expr_parse_float(v_s);
            IF v_f IS NULL OR v_f IN ('Infinity'::float8, '-Infinity'::float8, 'NaN'::float8) THEN
                RETURN p_default;
            END IF;
            RETURN noetl.expr_check_int(noetl.expr_f8_trunc(v_f));
        WHEN 'null', 'array', 'object' THEN
            RETURN p_default;
        ELSE
            PERFORM noetl.expr_error('filter ''int'' on undefined');
    END CASE;
    RETURN NULL;
END;
$$;

-- noetl.expr_to_float(x, default) -> the `float` filter: numbers and booleans as floats, strings
-- by the float syntax (else the default), null and containers the default; undefined and a
-- non-finite result are errors.
CREATE OR REPLACE FUNCTION noetl.expr_to_float(p_x jsonb, p_default jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_f float8;
BEGIN
    CASE pg_catalog.jsonb_typeof(p_x)
        WHEN 'number' THEN
            IF pg_catalog.scale(p_x::numeric) > 0 THEN
                RETURN p_x;
            END IF;
            RETURN noetl.expr_float_json(noetl.expr_to_f8(p_x::numeric));
        WHEN 'boolean' THEN
            RETURN CASE WHEN p_x = 'true'::jsonb THEN '1.0'::jsonb ELSE '0.0'::jsonb END;
        WHEN 'string' THEN
            v_f := noetl.expr_parse_float(p_x #>> '{}');
            IF v_f IS NULL THEN
                RETURN p_default;
            END IF;
            RETURN noetl.expr_float_json(v_f);
        WHEN 'null', 'array', 'object' THEN
            RETURN p_default;
        ELSE
            PERFORM noetl.expr_error('filter ''float'' on undefined');
    END CASE;
    RETURN NULL;
END;
$$;

-- noetl.expr_round(x, precision, method) -> the `round` filter (§3.8), with Python's exact
-- half-to-even rounding for `common` and Jinja's ceil/floor(x * 10^p) / 10^p otherwise.
CREATE OR REPLACE FUNCTION noetl.expr_round(p_x jsonb, p_precision jsonb, p_method jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_method text;
    v_p      integer;          -- NULL: round(x, None)
    v_float  boolean;
    v_n      numeric;
    v_m      numeric;
    v_r      numeric;
    v_t      numeric;
    v_f      float8;
    v_c      float8;
BEGIN
    IF pg_catalog.jsonb_typeof(p_method) IS DISTINCT FROM 'string'
       OR (p_method #>> '{}') NOT IN ('common', 'ceil', 'floor') THEN
        PERFORM noetl.expr_error('filter ''round'': method must be common, ceil or floor');
    END IF;
    v_method := p_method #>> '{}';
    CASE pg_catalog.jsonb_typeof(p_precision)
        WHEN 'number' THEN
            IF pg_catalog.scale(p_precision::numeric) > 0 THEN
                PERFORM noetl.expr_error('filter ''round'': precision must be an integer');
            END IF;
            v_p := GREATEST(-100000, LEAST(100000, p_precision::numeric))::integer;
        WHEN 'boolean' THEN
            v_p := CASE WHEN p_precision = 'true'::jsonb THEN 1 ELSE 0 END;
        WHEN 'null' THEN
            IF v_method <> 'common' THEN
                PERFORM noetl.expr_error('filter ''round'': precision must be an integer');
            END IF;
        ELSE
            PERFORM noetl.expr_error('filter ''round'': precision must be an integer');
    END CASE;
    CASE pg_catalog.jsonb_typeof(p_x)
        WHEN 'number' THEN
            v_float := pg_catalog.scale(p_x::numeric) > 0;
            v_n := p_x::numeric;
        WHEN 'boolean' THEN
            v_float := false;
            v_n := CASE WHEN p_x = 'true'::jsonb THEN 1 ELSE 0 END;
        ELSE
            PERFORM noetl.expr_error(pg_catalog.format('filter ''round'' on %s', noetl.expr_type(p_x)));
    END CASE;

    IF v_method = 'common' THEN
        IF NOT v_float THEN
            IF v_p IS NULL OR v_p >= 0 THEN
                RETURN pg_catalog.to_jsonb(v_n);
            END IF;
            -- int.__round__ with negative digits: nearest multiple of 10^-p, ties to even
            v_m := ('1e' || (-v_p))::numeric;
            v_r := pg_catalog.mod(v_n, v_m);
            IF v_r < 0 THEN
                v_r := v_r + v_m;
            END IF;
            v_t := v_n - v_r;
            IF v_r * 2 > v_m OR (v_r * 2 = v_m AND pg_catalog.mod(pg_catalog.div(v_t, v_m), 2) <> 0) THEN
                v_t := v_t + v_m;
            END IF;
            RETURN noetl.expr_check_int(v_t);
        END IF;
        v_f := p_x::float8;
        IF v_p IS NOT NULL AND v_p > 323 THEN
            RETURN p_x;
        ELSIF v_p IS NOT NULL AND v_p < -308 THEN
            RETURN '0.0'::jsonb;
        END IF;
        -- half-to-even on the exact binary value
        v_n := noetl.expr_f8_exact(v_f) * ('1e' || COALESCE(v_p, 0))::numeric;
        v_t := pg_catalog.trunc(v_n);
        v_r := pg_catalog.abs(v_n - v_t);
        IF v_r > 0.5 OR (v_r = 0.5 AND pg_catalog.mod(v_t, 2) <> 0) THEN
            v_t := v_t + pg_catalog.sign(v_n);
        END IF;
        IF v_p IS NULL THEN
            RETURN pg_catalog.to_jsonb(v_t);            -- round(x) of a float is an integer
        END IF;
        RETURN noetl.expr_float_json(noetl.expr_to_f8(v_t * ('1e' || (-v_p))::numeric));
    END IF;

    -- ceil / floor: (ceil|floor)(x * 10**p) / 10**p with Python's int and float rules
    IF v_p >= 0 THEN
        IF NOT v_float THEN
            RETURN noetl.expr_float_json(noetl.expr_to_f8(v_n));
        END IF;
        IF v_p > 308 THEN
            PERFORM noetl.expr_error('filter ''round'': precision too large');
        END IF;
        BEGIN
            v_f := p_x::float8 * noetl.expr_to_f8(('1e' || v_p)::numeric);
        EXCEPTION WHEN numeric_value_out_of_range THEN
            IF SQLERRM LIKE '%underflow%' THEN
                v_f := 0.0;
            ELSE
                PERFORM noetl.expr_error('filter ''round'': non-finite float');
            END IF;
        END;
        v_c := CASE v_method WHEN 'ceil' THEN pg_catalog.ceil(v_f) ELSE pg_catalog.floor(v_f) END;
        RETURN noetl.expr_float_json(noetl.expr_to_f8(noetl.expr_f8_exact(v_c) * ('1e' || (-v_p))::numeric));
    END IF;
    BEGIN
        v_f := pg_catalog.power(10.0::float8, v_p::float8);
        v_f := noetl.expr_to_f8(v_n) * v_f;
        v_c := CASE v_method WHEN 'ceil' THEN pg_catalog.ceil(v_f) ELSE pg_catalog.floor(v_f) END;
        RETURN noetl.expr_float_json(v_c / pg_catalog.power(10.0::float8, v_p::float8));
    EXCEPTION WHEN numeric_value_out_of_range OR division_by_zero THEN
        -- overflow, or 10**p underflowing to 0.0 (Python then divides by zero)
        PERFORM noetl.expr_error('filter ''round'': non-finite float or division by zero');
    END;
    RETURN NULL;
END;
$$;

-- noetl.expr_replace(s, old, new, count) -> Python s.replace(old, new, count); count < 0 means all.
CREATE OR REPLACE FUNCTION noetl.expr_replace(p_s text, p_old text, p_new text, p_count numeric)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_out  text := '';
    v_rest text := p_s;
    v_pos  integer;
    v_done numeric := 0;
    v_c    text;
BEGIN
    IF p_count < 0 AND p_old <> '' THEN
        RETURN noetl.expr_check_text(pg_catalog.replace(p_s, p_old, p_new));
    END IF;
    IF p_old = '' THEN
        -- an empty needle matches before every character and at the end
        IF pg_catalog.length(p_new) * (pg_catalog.length(p_s) + 1) + pg_catalog.length(p_s) > 2097152 THEN
            PERFORM noetl.expr_error('filter ''replace'': string longer than 1048576 characters');
        END IF;
        FOREACH v_c IN ARRAY pg_catalog.string_to_array(p_s, NULL) LOOP
            IF p_count < 0 OR v_done < p_count THEN
                v_out := v_out || p_new;
                v_done := v_done + 1;
            END IF;
            v_out := v_out || v_c;
        END LOOP;
        IF p_count < 0 OR v_done < p_count THEN
            v_out := v_out || p_new;
        END IF;
        RETURN noetl.expr_check_text(v_out);
    END IF;
    WHILE v_done < p_count LOOP
        v_pos := pg_catalog.strpos(v_rest, p_old);
        EXIT WHEN v_pos = 0;
        v_out := v_out || pg_catalog.left(v_rest, v_pos - 1) || p_new;
        v_rest := pg_catalog.substr(v_rest, v_pos + pg_catalog.length(p_old));
        v_done := v_done + 1;
    END LOOP;
    RETURN noetl.expr_check_text(v_out || v_rest);
END;
$$;

-- noetl.expr_filter(name, x, a1, a2, a3, given) -> the filter applied to x.
CREATE OR REPLACE FUNCTION noetl.expr_filter(p_name text, p_x jsonb, p_a1 jsonb, p_a2 jsonb, p_a3 jsonb,
                                             p_given integer)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_t    text := pg_catalog.jsonb_typeof(p_x);
    v_s    text;
    v_cnt  numeric;
BEGIN
    CASE p_name
        WHEN 'default' THEN
            IF p_x IS NULL
               OR ((p_given & 2) <> 0 AND noetl.jinja_truthy(p_a2) AND NOT noetl.jinja_truthy(p_x)) THEN
                RETURN CASE WHEN (p_given & 1) <> 0 THEN p_a1 ELSE '""'::jsonb END;
            END IF;
            RETURN p_x;
        WHEN 'int' THEN
            RETURN noetl.expr_to_int(p_x, CASE WHEN (p_given & 1) <> 0 THEN p_a1 ELSE '0'::jsonb END);
        WHEN 'length' THEN
            CASE v_t
                WHEN 'string' THEN RETURN pg_catalog.to_jsonb(pg_catalog.length(p_x #>> '{}'));
                WHEN 'array' THEN RETURN pg_catalog.to_jsonb(pg_catalog.jsonb_array_length(p_x));
                WHEN 'object' THEN RETURN pg_catalog.to_jsonb((SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(p_x)));
                ELSE NULL;
            END CASE;
            IF p_x IS NULL THEN
                RETURN '0'::jsonb;
            END IF;
        WHEN 'lower' THEN
            RETURN pg_catalog.to_jsonb(pg_catalog.lower(noetl.jinja_text(p_x)));
        WHEN 'upper' THEN
            RETURN pg_catalog.to_jsonb(pg_catalog.upper(noetl.jinja_text(p_x)));
        WHEN 'trim' THEN
            IF (p_given & 1) = 0 OR pg_catalog.jsonb_typeof(p_a1) = 'null' THEN
                RETURN pg_catalog.to_jsonb(noetl.jinja_strip(noetl.jinja_text(p_x)));
            END IF;
            RETURN pg_catalog.to_jsonb(pg_catalog.btrim(noetl.jinja_text(p_x), noetl.jinja_text(p_a1)));
        WHEN 'string' THEN
            RETURN pg_catalog.to_jsonb(noetl.jinja_text(p_x));
        WHEN 'bool' THEN
            RETURN pg_catalog.to_jsonb(noetl.jinja_guard(p_x));
        WHEN 'float' THEN
            RETURN noetl.expr_to_float(p_x, CASE WHEN (p_given & 1) <> 0 THEN p_a1 ELSE '0.0'::jsonb END);
        WHEN 'first', 'last' THEN
            CASE v_t
                WHEN 'array' THEN
                    RETURN p_x -> (CASE WHEN p_name = 'first' THEN 0 ELSE -1 END);
                WHEN 'string' THEN
                    v_s := p_x #>> '{}';
                    IF v_s = '' THEN
                        RETURN NULL;
                    END IF;
                    RETURN pg_catalog.to_jsonb(CASE WHEN p_name = 'first' THEN pg_catalog.left(v_s, 1) ELSE pg_catalog.right(v_s, 1) END);
                WHEN 'object' THEN
                    IF p_name = 'first' THEN
                        RETURN (SELECT pg_catalog.to_jsonb(k) FROM pg_catalog.jsonb_object_keys(p_x) AS k LIMIT 1);
                    END IF;
                    RETURN (SELECT pg_catalog.to_jsonb(k) FROM pg_catalog.jsonb_object_keys(p_x) WITH ORDINALITY AS t(k, n)
                            ORDER BY n DESC LIMIT 1);
                ELSE
                    IF p_x IS NULL THEN
                        RETURN NULL;
                    END IF;
            END CASE;
        WHEN 'round' THEN
            RETURN noetl.expr_round(p_x,
                                    CASE WHEN (p_given & 1) <> 0 THEN p_a1 ELSE '0'::jsonb END,
                                    CASE WHEN (p_given & 2) <> 0 THEN p_a2 ELSE '"common"'::jsonb END);
        WHEN 'abs' THEN
            IF v_t = 'number' THEN
                IF p_x::numeric < 0 THEN
                    RETURN noetl.expr_unary('-', p_x);
                END IF;
                RETURN p_x;
            ELSIF v_t = 'boolean' THEN
                RETURN noetl.expr_unary('+', p_x);
            END IF;
        WHEN 'tojson' THEN
            RETURN noetl.expr_check_text(noetl.jinja_tojson(p_x));
        WHEN 'join' THEN
            v_s := CASE WHEN (p_given & 1) <> 0 THEN noetl.jinja_text(p_a1) ELSE '' END;
            CASE v_t
                WHEN 'array' THEN
                    RETURN noetl.expr_check_text(COALESCE(
                        (SELECT pg_catalog.string_agg(noetl.jinja_text(e), v_s ORDER BY n)
                         FROM pg_catalog.jsonb_array_elements(p_x) WITH ORDINALITY AS t(e, n)), ''));
                WHEN 'string' THEN
                    RETURN noetl.expr_check_text(pg_catalog.array_to_string(pg_catalog.string_to_array(p_x #>> '{}', NULL), v_s));
                WHEN 'object' THEN
                    RETURN noetl.expr_check_text(COALESCE(
                        (SELECT pg_catalog.string_agg(k, v_s ORDER BY n)
                         FROM pg_catalog.jsonb_object_keys(p_x) WITH ORDINALITY AS t(k, n)), ''));
                ELSE
                    IF p_x IS NULL THEN
                        RETURN '""'::jsonb;
                    END IF;
            END CASE;
        WHEN 'replace' THEN
            IF (p_given & 3) <> 3 THEN
                PERFORM noetl.expr_error('filter ''replace'': old and new are required');
            END IF;
            IF (p_given & 4) = 0 OR pg_catalog.jsonb_typeof(p_a3) = 'null' THEN
                v_cnt := -1;
            ELSIF pg_catalog.jsonb_typeof(p_a3) = 'boolean' THEN
                v_cnt := CASE WHEN p_a3 = 'true'::jsonb THEN 1 ELSE 0 END;
            ELSIF pg_catalog.jsonb_typeof(p_a3) = 'number' AND pg_catalog.scale(p_a3::numeric) = 0 THEN
                v_cnt := p_a3::numeric;
                IF pg_catalog.abs(v_cnt) > 9223372036854775807 THEN   -- Python: beyond a C ssize_t
                    PERFORM noetl.expr_error('filter ''replace'': count too large');
                END IF;
            ELSE
                PERFORM noetl.expr_error(pg_catalog.format('filter ''replace'': count must be an integer, not %s',
                                                           noetl.expr_type(p_a3)));
            END IF;
            RETURN noetl.expr_replace(noetl.jinja_text(p_x), noetl.jinja_text(p_a1), noetl.jinja_text(p_a2), v_cnt);
        WHEN 'list' THEN
            CASE v_t
                WHEN 'array' THEN RETURN p_x;
                WHEN 'string' THEN RETURN pg_catalog.to_jsonb(pg_catalog.string_to_array(p_x #>> '{}', NULL));
                WHEN 'object' THEN
                    RETURN COALESCE((SELECT pg_catalog.jsonb_agg(k ORDER BY n)
                                     FROM pg_catalog.jsonb_object_keys(p_x) WITH ORDINALITY AS t(k, n)), '[]'::jsonb);
                ELSE
                    IF p_x IS NULL THEN
                        RETURN '[]'::jsonb;
                    END IF;
            END CASE;
        WHEN 'keys', 'values' THEN
            IF v_t = 'object' THEN
                IF p_name = 'keys' THEN
                    RETURN COALESCE((SELECT pg_catalog.jsonb_agg(k ORDER BY n)
                                     FROM pg_catalog.jsonb_object_keys(p_x) WITH ORDINALITY AS t(k, n)), '[]'::jsonb);
                END IF;
                RETURN COALESCE((SELECT pg_catalog.jsonb_agg(e ORDER BY n)
                                 FROM pg_catalog.jsonb_each(p_x) WITH ORDINALITY AS t(k, e, n)), '[]'::jsonb);
            ELSIF p_x IS NULL THEN
                RETURN '[]'::jsonb;
            END IF;
        ELSE
            PERFORM noetl.expr_error(pg_catalog.format('filter ''%s'': not supported', p_name));
    END CASE;
    PERFORM noetl.expr_error(pg_catalog.format('filter ''%s'' on %s', p_name, noetl.expr_type(p_x)));
    RETURN NULL;
END;
$$;
