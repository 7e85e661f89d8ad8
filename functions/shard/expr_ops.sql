-- Expression evaluator, part 3 of 4: operators (engine.md §3.6).
--
-- Python semantics on the value model of §3.3: booleans count as 0/1 in arithmetic and ordering,
-- integers are exact (numeric, limited to 10^1000), floats are IEEE doubles computed with float8,
-- and float operations whose Python definition works on exact values (%, //) use exact numerics.
-- Every error raises NT001.

-- noetl.expr_eq(a, b) -> Python a == b: undefined equals only undefined, numbers and booleans
-- compare numerically, containers member-wise, other type pairs are unequal.
CREATE OR REPLACE FUNCTION noetl.expr_eq(p_a jsonb, p_b jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_ta text;
    v_tb text;
    v_k  text;
BEGIN
    IF p_a IS NULL OR p_b IS NULL THEN
        RETURN p_a IS NULL AND p_b IS NULL;
    END IF;
    IF p_a = p_b THEN
        RETURN true;               -- jsonb equality implies Python equality (1 = 1.0 included)
    END IF;
    v_ta := pg_catalog.jsonb_typeof(p_a);
    v_tb := pg_catalog.jsonb_typeof(p_b);
    -- unequal jsonb can still be Python-equal only through booleans counting as 0/1
    IF v_ta = 'boolean' AND v_tb = 'number' THEN
        RETURN (CASE WHEN p_a = 'true'::jsonb THEN 1 ELSE 0 END) = p_b::numeric;
    ELSIF v_ta = 'number' AND v_tb = 'boolean' THEN
        RETURN (CASE WHEN p_b = 'true'::jsonb THEN 1 ELSE 0 END) = p_a::numeric;
    ELSIF v_ta = 'array' AND v_tb = 'array' THEN
        IF pg_catalog.jsonb_array_length(p_a) <> pg_catalog.jsonb_array_length(p_b) THEN
            RETURN false;
        END IF;
        FOR i IN 0 .. pg_catalog.jsonb_array_length(p_a) - 1 LOOP
            IF NOT noetl.expr_eq(p_a -> i, p_b -> i) THEN
                RETURN false;
            END IF;
        END LOOP;
        RETURN true;
    ELSIF v_ta = 'object' AND v_tb = 'object' THEN
        IF (SELECT pg_catalog.array_agg(k) FROM pg_catalog.jsonb_object_keys(p_a) AS k)
           IS DISTINCT FROM (SELECT pg_catalog.array_agg(k) FROM pg_catalog.jsonb_object_keys(p_b) AS k) THEN
            RETURN false;          -- both lists come in jsonb key order, so this is set equality
        END IF;
        FOR v_k IN SELECT pg_catalog.jsonb_object_keys(p_a) LOOP
            IF NOT noetl.expr_eq(p_a -> v_k, p_b -> v_k) THEN
                RETURN false;
            END IF;
        END LOOP;
        RETURN true;
    END IF;
    RETURN false;
END;
$$;

-- noetl.expr_less(a, b, op) -> Python a <op> b for op in <, <=, >, >=: numbers and booleans
-- numerically, strings by code point, lists lexicographically; anything else is an error.
CREATE OR REPLACE FUNCTION noetl.expr_less(p_a jsonb, p_b jsonb, p_op text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_ta text := COALESCE(pg_catalog.jsonb_typeof(p_a), 'undefined');
    v_tb text := COALESCE(pg_catalog.jsonb_typeof(p_b), 'undefined');
    v_c  integer;          -- -1, 0, 1
    v_x  numeric;
    v_y  numeric;
    v_sa text;
    v_sb text;
    v_n  integer;
BEGIN
    IF v_ta IN ('number', 'boolean') AND v_tb IN ('number', 'boolean') THEN
        v_x := CASE v_ta WHEN 'boolean' THEN CASE WHEN p_a = 'true'::jsonb THEN 1 ELSE 0 END ELSE p_a::numeric END;
        v_y := CASE v_tb WHEN 'boolean' THEN CASE WHEN p_b = 'true'::jsonb THEN 1 ELSE 0 END ELSE p_b::numeric END;
        v_c := CASE WHEN v_x < v_y THEN -1 WHEN v_x > v_y THEN 1 ELSE 0 END;
    ELSIF v_ta = 'string' AND v_tb = 'string' THEN
        v_sa := p_a #>> '{}';
        v_sb := p_b #>> '{}';
        v_c := CASE WHEN v_sa COLLATE "C" < v_sb COLLATE "C" THEN -1 WHEN v_sa = v_sb THEN 0 ELSE 1 END;
    ELSIF v_ta = 'array' AND v_tb = 'array' THEN
        v_n := LEAST(pg_catalog.jsonb_array_length(p_a), pg_catalog.jsonb_array_length(p_b));
        FOR i IN 0 .. v_n - 1 LOOP
            IF NOT noetl.expr_eq(p_a -> i, p_b -> i) THEN
                RETURN noetl.expr_less(p_a -> i, p_b -> i, p_op);
            END IF;
        END LOOP;
        v_c := pg_catalog.sign(pg_catalog.jsonb_array_length(p_a) - pg_catalog.jsonb_array_length(p_b))::integer;
    ELSE
        PERFORM noetl.expr_error(pg_catalog.format('''%s'' not supported between %s and %s',
                                                   p_op, noetl.expr_type(p_a), noetl.expr_type(p_b)));
    END IF;
    RETURN CASE p_op WHEN '<' THEN v_c < 0 WHEN '<=' THEN v_c <= 0 WHEN '>' THEN v_c > 0 ELSE v_c >= 0 END;
END;
$$;

-- noetl.expr_in(a, b) -> Python `a in b` (§3.6 membership table).
CREATE OR REPLACE FUNCTION noetl.expr_in(p_a jsonb, p_b jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_ta text := pg_catalog.jsonb_typeof(p_a);
    v_e  jsonb;
BEGIN
    CASE pg_catalog.jsonb_typeof(p_b)
        WHEN 'array' THEN
            IF p_a IS NULL THEN
                RETURN false;
            ELSIF v_ta IN ('string', 'null') THEN
                RETURN p_b @> pg_catalog.jsonb_build_array(p_a);
            END IF;
            FOR v_e IN SELECT e FROM pg_catalog.jsonb_array_elements(p_b) AS e LOOP
                IF noetl.expr_eq(v_e, p_a) THEN
                    RETURN true;
                END IF;
            END LOOP;
            RETURN false;
        WHEN 'string' THEN
            IF v_ta IS DISTINCT FROM 'string' THEN
                PERFORM noetl.expr_error(pg_catalog.format('''in'': ''in <string>'' requires string as left operand, not %s',
                                                           noetl.expr_type(p_a)));
            END IF;
            RETURN pg_catalog.strpos(p_b #>> '{}', p_a #>> '{}') > 0;
        WHEN 'object' THEN
            IF v_ta = 'string' THEN
                RETURN p_b ? (p_a #>> '{}');
            ELSIF v_ta IN ('array', 'object') THEN
                PERFORM noetl.expr_error(pg_catalog.format('''in'': unhashable type %s', noetl.expr_type(p_a)));
            END IF;
            RETURN false;
        WHEN 'null', 'boolean', 'number' THEN
            PERFORM noetl.expr_error(pg_catalog.format('''in'': argument of type %s is not iterable', noetl.expr_type(p_b)));
        ELSE
            RETURN false;           -- undefined is an empty container
    END CASE;
    RETURN false;
END;
$$;

-- noetl.expr_float_op(op, x, y) -> a float operation with Python's definition; PostgreSQL's
-- own range errors (overflow, 0 ** -1, negative ** fraction) become NT001.
CREATE OR REPLACE FUNCTION noetl.expr_float_op(p_op text, p_x float8, p_y float8)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_mod float8;
    v_div float8;
    v_fl  float8;
BEGIN
    IF p_op IN ('/', '//', '%') AND p_y = 0 THEN
        PERFORM noetl.expr_error(pg_catalog.format('''%s'': division by zero', p_op));
    END IF;
    BEGIN
        CASE p_op
            WHEN '+' THEN RETURN noetl.expr_float_json(p_x + p_y);
            WHEN '-' THEN RETURN noetl.expr_float_json(p_x - p_y);
            WHEN '*' THEN RETURN noetl.expr_float_json(p_x * p_y);
            WHEN '/' THEN RETURN noetl.expr_float_json(p_x / p_y);
            WHEN '**' THEN
                IF p_y = 0 THEN
                    RETURN noetl.expr_float_json(1.0);
                ELSIF p_x = 0 AND p_y < 0 THEN
                    PERFORM noetl.expr_error('''**'': zero cannot be raised to a negative power');
                ELSIF p_x < 0 AND p_y <> pg_catalog.floor(p_y) THEN
                    PERFORM noetl.expr_error('''**'': negative number cannot be raised to a fractional power');
                END IF;
                RETURN noetl.expr_float_json(pg_catalog.power(p_x, p_y));
            ELSE
                -- Python's float_divmod: mod from the exact fmod, then the corrections it makes
                v_mod := noetl.expr_to_f8(pg_catalog.mod(noetl.expr_f8_exact(p_x), noetl.expr_f8_exact(p_y)));
                v_div := (p_x - v_mod) / p_y;
                IF v_mod <> 0 THEN
                    IF (p_y < 0) <> (v_mod < 0) THEN
                        v_mod := v_mod + p_y;
                        v_div := v_div - 1.0;
                    END IF;
                ELSE
                    v_mod := 0.0;
                END IF;
                IF p_op = '%' THEN
                    RETURN noetl.expr_float_json(v_mod);
                END IF;
                IF v_div <> 0 THEN
                    v_fl := pg_catalog.floor(v_div);
                    IF v_div - v_fl > 0.5 THEN
                        v_fl := v_fl + 1.0;
                    END IF;
                ELSE
                    v_fl := 0.0;
                END IF;
                RETURN noetl.expr_float_json(v_fl);
        END CASE;
    EXCEPTION
        WHEN numeric_value_out_of_range OR invalid_argument_for_power_function OR division_by_zero
             OR floating_point_exception THEN
            IF SQLERRM LIKE '%underflow%' THEN
                RETURN '0.0'::jsonb;  -- Python rounds an underflow to zero without an error
            END IF;
            PERFORM noetl.expr_error(pg_catalog.format('''%s'': non-finite float', p_op));
    END;
    RETURN NULL;
END;
$$;

-- noetl.expr_arith(op, a, b) -> a <op> b for + - * / // % ** (§3.6 arithmetic table).
CREATE OR REPLACE FUNCTION noetl.expr_arith(p_op text, p_a jsonb, p_b jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_ta text := pg_catalog.jsonb_typeof(p_a);
    v_tb text := pg_catalog.jsonb_typeof(p_b);
    v_x  numeric;
    v_y  numeric;
    v_r  numeric;
    v_n  numeric;
    v_s  jsonb;
BEGIN
    IF v_ta IN ('number', 'boolean') AND v_tb IN ('number', 'boolean') THEN
        v_x := CASE v_ta WHEN 'boolean' THEN CASE WHEN p_a = 'true'::jsonb THEN 1 ELSE 0 END ELSE p_a::numeric END;
        v_y := CASE v_tb WHEN 'boolean' THEN CASE WHEN p_b = 'true'::jsonb THEN 1 ELSE 0 END ELSE p_b::numeric END;
        IF pg_catalog.scale(v_x) > 0 OR pg_catalog.scale(v_y) > 0 THEN
            RETURN noetl.expr_float_op(p_op, noetl.expr_to_f8(v_x), noetl.expr_to_f8(v_y));
        END IF;
        CASE p_op
            WHEN '+' THEN RETURN noetl.expr_check_int(v_x + v_y);
            WHEN '-' THEN RETURN noetl.expr_check_int(v_x - v_y);
            WHEN '*' THEN RETURN noetl.expr_check_int(v_x * v_y);
            WHEN '/' THEN
                IF v_y = 0 THEN
                    PERFORM noetl.expr_error('''/'': division by zero');
                END IF;
                IF pg_catalog.abs(v_x) <= 9007199254740992 AND pg_catalog.abs(v_y) <= 9007199254740992 THEN
                    RETURN noetl.expr_float_json(v_x::float8 / v_y::float8);   -- exact operands: IEEE rounding
                END IF;
                -- large integers: Python rounds the exact quotient once; 40 spare digits
                v_r := pg_catalog.div(v_x * ('1e' || (40 + GREATEST(0, pg_catalog.length(pg_catalog.abs(v_y)::text)
                                                                      - pg_catalog.length(pg_catalog.abs(v_x)::text))))::numeric, v_y);
                RETURN noetl.expr_float_json(noetl.expr_to_f8(v_r * ('1e-' || (40 + GREATEST(0, pg_catalog.length(pg_catalog.abs(v_y)::text)
                                                                      - pg_catalog.length(pg_catalog.abs(v_x)::text))))::numeric));
            WHEN '//' THEN
                IF v_y = 0 THEN
                    PERFORM noetl.expr_error('''//'': division by zero');
                END IF;
                v_r := pg_catalog.div(v_x, v_y);
                IF v_r * v_y <> v_x AND (v_x < 0) <> (v_y < 0) THEN
                    v_r := v_r - 1;
                END IF;
                RETURN pg_catalog.to_jsonb(v_r);
            WHEN '%' THEN
                IF v_y = 0 THEN
                    PERFORM noetl.expr_error('''%'': division by zero');
                END IF;
                v_r := pg_catalog.mod(v_x, v_y);
                IF v_r <> 0 AND (v_r < 0) <> (v_y < 0) THEN
                    v_r := v_r + v_y;
                END IF;
                RETURN pg_catalog.to_jsonb(v_r);
            ELSE  -- '**'
                IF v_y < 0 THEN
                    IF v_x = 0 THEN
                        PERFORM noetl.expr_error('''**'': zero cannot be raised to a negative power');
                    END IF;
                    RETURN noetl.expr_float_op('**', noetl.expr_to_f8(v_x), noetl.expr_to_f8(v_y));
                END IF;
                IF pg_catalog.abs(v_x) > 1 AND v_y * pg_catalog.log(pg_catalog.abs(v_x)) > 1001 THEN
                    PERFORM noetl.expr_error('''**'': integer magnitude exceeds 10^1000');
                END IF;
                IF pg_catalog.abs(v_x) <= 1 THEN   -- 0, 1, -1: no need for power()
                    RETURN pg_catalog.to_jsonb(CASE WHEN v_y = 0 THEN 1 WHEN v_x = 0 THEN 0
                                                    WHEN v_x = 1 OR v_y % 2 = 0 THEN 1 ELSE -1 END);
                END IF;
                RETURN noetl.expr_check_int(pg_catalog.trunc(pg_catalog.power(v_x, v_y)));
        END CASE;
    END IF;
    IF p_a IS NULL OR p_b IS NULL THEN
        PERFORM noetl.expr_error(pg_catalog.format('''%s'': undefined operand', p_op));
    END IF;
    IF p_op = '+' THEN
        IF v_ta = 'string' AND v_tb = 'string' THEN
            RETURN noetl.expr_check_text((p_a #>> '{}') || (p_b #>> '{}'));
        ELSIF v_ta = 'array' AND v_tb = 'array' THEN
            RETURN p_a || p_b;
        END IF;
    ELSIF p_op = '*' THEN
        -- repetition: a string or list times an integer (boolean included), either order
        IF v_ta IN ('string', 'array') AND (v_tb = 'boolean' OR (v_tb = 'number' AND pg_catalog.scale(p_b::numeric) = 0)) THEN
            v_s := p_a;
            v_n := CASE v_tb WHEN 'boolean' THEN CASE WHEN p_b = 'true'::jsonb THEN 1 ELSE 0 END ELSE p_b::numeric END;
        ELSIF v_tb IN ('string', 'array') AND (v_ta = 'boolean' OR (v_ta = 'number' AND pg_catalog.scale(p_a::numeric) = 0)) THEN
            v_s := p_b;
            v_n := CASE v_ta WHEN 'boolean' THEN CASE WHEN p_a = 'true'::jsonb THEN 1 ELSE 0 END ELSE p_a::numeric END;
        END IF;
        IF v_s IS NOT NULL THEN
            IF pg_catalog.abs(v_n) > 9223372036854775807 THEN    -- Python: beyond a C ssize_t
                PERFORM noetl.expr_error('''*'': repeat count too large');
            END IF;
            IF pg_catalog.jsonb_typeof(v_s) = 'string' THEN
                IF v_n <= 0 OR v_s = '""'::jsonb THEN
                    RETURN '""'::jsonb;
                ELSIF v_n * pg_catalog.length(v_s #>> '{}') > 1048576 THEN
                    PERFORM noetl.expr_error('''*'': string longer than 1048576 characters');
                END IF;
                RETURN pg_catalog.to_jsonb(pg_catalog.repeat(v_s #>> '{}', v_n::integer));
            END IF;
            IF v_n <= 0 OR v_s = '[]'::jsonb THEN
                RETURN '[]'::jsonb;
            ELSIF v_n * pg_catalog.jsonb_array_length(v_s) > 100000 THEN
                PERFORM noetl.expr_error('''*'': list longer than 100000 items');
            END IF;
            RETURN (SELECT pg_catalog.jsonb_agg(e ORDER BY r, n)
                    FROM pg_catalog.generate_series(1, v_n::integer) AS r,
                         pg_catalog.jsonb_array_elements(v_s) WITH ORDINALITY AS t(e, n));
        END IF;
    ELSIF p_op = '%' AND v_ta = 'string' THEN
        PERFORM noetl.expr_error('''%'': string formatting is not supported');
    END IF;
    PERFORM noetl.expr_error(pg_catalog.format('''%s'' not supported between %s and %s',
                                               p_op, noetl.expr_type(p_a), noetl.expr_type(p_b)));
    RETURN NULL;
END;
$$;

-- noetl.expr_unary(op, a) -> -a or +a: numbers only, a boolean counts as an integer.
CREATE OR REPLACE FUNCTION noetl.expr_unary(p_op text, p_a jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    CASE pg_catalog.jsonb_typeof(p_a)
        WHEN 'number' THEN
            IF p_op = '+' THEN
                RETURN p_a;
            ELSIF pg_catalog.scale(p_a::numeric) > 0 THEN
                RETURN noetl.expr_float_json(-(p_a::float8));
            END IF;
            RETURN pg_catalog.to_jsonb(-(p_a::numeric));
        WHEN 'boolean' THEN
            RETURN pg_catalog.to_jsonb(CASE WHEN p_a = 'true'::jsonb THEN 1 ELSE 0 END
                                       * CASE WHEN p_op = '-' THEN -1 ELSE 1 END);
        ELSE
            PERFORM noetl.expr_error(pg_catalog.format('unary ''%s'' not supported for %s', p_op, noetl.expr_type(p_a)));
    END CASE;
    RETURN NULL;
END;
$$;
