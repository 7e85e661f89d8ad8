-- Expression evaluator, part 1 of 4: the value model (engine.md §3.3, §3.5, §3.7).
--
-- Values are jsonb; SQL NULL is Jinja's (chainable) undefined. A JSON number is a float when its
-- numeric scale is positive (its text has a '.'), an integer otherwise. A float result is always
-- written back through noetl.expr_float_json(), which keeps a '.' in the jsonb number so that 2.0
-- stays 2.0 and 1e16 stays a float. Text of a float is Python's repr (noetl.expr_float_repr).
--
-- Every evaluation error raises SQLSTATE NT001 (engine.md §3.11) with a message
-- "<construct>: <reason>"; the orchestrator prefixes the field location.
--
-- The functions rely on extra_float_digits >= 1 (PostgreSQL's default since 12): float8out then
-- prints the shortest text that reads back to the same double, which is also Python's choice.
--
-- No function here sets search_path: they run on every routing decision and a SET clause costs a
-- GUC save/restore per call. Instead every object is schema-qualified (noetl.*) and everything
-- else is a pg_catalog built-in, which is always searched first.

-- noetl.expr_error(p_message) -> never returns: raises the evaluation error NT001.
CREATE OR REPLACE FUNCTION noetl.expr_error(p_message text)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'NT001', MESSAGE = p_message;
END;
$$;

-- noetl.expr_type(v) -> the value's type name as used in error messages:
-- undefined, none, boolean, integer, float, string, list, object.
CREATE OR REPLACE FUNCTION noetl.expr_type(p_v jsonb)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE pg_catalog.jsonb_typeof(p_v)
        WHEN 'number' THEN CASE WHEN pg_catalog.scale(p_v::numeric) > 0 THEN 'float' ELSE 'integer' END
        WHEN 'string' THEN 'string'
        WHEN 'boolean' THEN 'boolean'
        WHEN 'array' THEN 'list'
        WHEN 'object' THEN 'object'
        WHEN 'null' THEN 'none'
        ELSE 'undefined' END
$$;

-- noetl.expr_is_float(v) -> true for a JSON number written with a '.', false otherwise.
CREATE OR REPLACE FUNCTION noetl.expr_is_float(p_v jsonb)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_typeof(p_v) = 'number' AND pg_catalog.scale(p_v::numeric) > 0
$$;

-- noetl.jinja_truthy(v) -> Python truth value (§3.5): undefined, null, false, 0, 0.0, '', [], {}
-- are false.
CREATE OR REPLACE FUNCTION noetl.jinja_truthy(p_v jsonb)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE pg_catalog.jsonb_typeof(p_v)
        WHEN 'boolean' THEN p_v = 'true'::jsonb
        WHEN 'number' THEN p_v <> '0'::jsonb
        WHEN 'string' THEN p_v <> '""'::jsonb
        WHEN 'array' THEN p_v <> '[]'::jsonb
        WHEN 'object' THEN p_v <> '{}'::jsonb
        ELSE false END
$$;

-- noetl.jinja_strip(s) -> s without leading and trailing Python whitespace (str.strip()).
CREATE OR REPLACE FUNCTION noetl.jinja_strip(p_s text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.btrim(p_s, E'\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000')
$$;

-- noetl.jinja_guard(v) -> the guard rule of §3.5, also the `bool` filter: like truthiness, except
-- that a string is false when, trimmed and lower-cased, it is '', false, 0, no, none, null or off.
CREATE OR REPLACE FUNCTION noetl.jinja_guard(p_v jsonb)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE pg_catalog.jsonb_typeof(p_v)
        WHEN 'boolean' THEN p_v = 'true'::jsonb
        WHEN 'number' THEN p_v <> '0'::jsonb
        WHEN 'string' THEN pg_catalog.lower(noetl.jinja_strip(p_v #>> '{}'))
                           NOT IN ('', 'false', '0', 'no', 'none', 'null', 'off')
        WHEN 'array' THEN p_v <> '[]'::jsonb
        WHEN 'object' THEN p_v <> '{}'::jsonb
        ELSE false END
$$;

-- noetl.expr_float_repr(x) -> Python's repr of a finite double: the shortest round-trip digits,
-- positional when the decimal exponent is in [-4, 16) (with at least one digit after the point),
-- else d[.ddd]e±XX. PostgreSQL prints the same digits and switches to exponent form at 1e15
-- instead of 1e16, so only that decade and the missing '.0' need fixing.
CREATE OR REPLACE FUNCTION noetl.expr_float_repr(p_x float8)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_s      text := p_x::text;
    v_mant   text;
    v_digits text;
    v_neg    boolean;
BEGIN
    IF pg_catalog.strpos(v_s, 'e') = 0 THEN
        IF pg_catalog.strpos(v_s, '.') = 0 THEN
            IF v_s IN ('NaN', 'Infinity', '-Infinity') THEN
                PERFORM noetl.expr_error('float: non-finite float');
            END IF;
            RETURN v_s || '.0';
        END IF;
        RETURN v_s;
    END IF;
    IF pg_catalog.split_part(v_s, 'e', 2) <> '+15' THEN
        RETURN v_s;               -- same exponent form as Python (two-digit minimum exponent)
    END IF;
    -- d.ddde+15 -> 16 integer digits, positional
    v_mant := pg_catalog.split_part(v_s, 'e', 1);
    v_neg := pg_catalog.left(v_mant, 1) = '-';
    v_digits := pg_catalog.replace(pg_catalog.ltrim(v_mant, '-'), '.', '');
    IF pg_catalog.length(v_digits) <= 16 THEN
        v_s := pg_catalog.rpad(v_digits, 16, '0') || '.0';
    ELSE
        v_s := pg_catalog.left(v_digits, 16) || '.' || pg_catalog.substr(v_digits, 17);
    END IF;
    RETURN CASE WHEN v_neg THEN '-' || v_s ELSE v_s END;
END;
$$;

-- noetl.expr_float_json(x) -> the jsonb number of a float result, always with a '.' so it reads
-- back as a float (1e16 is stored 10000000000000000.0, 1.5e-07 as 0.00000015). Non-finite is an
-- evaluation error (§3.3).
CREATE OR REPLACE FUNCTION noetl.expr_float_json(p_x float8)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_x IN ('Infinity'::float8, '-Infinity'::float8, 'NaN'::float8) THEN
        PERFORM noetl.expr_error('float: non-finite float');
    END IF;
    RETURN pg_catalog.to_jsonb(p_x::text::numeric + 0.0);
END;
$$;

-- noetl.expr_f8_exact(x) -> the exact decimal value of a finite double (its binary value, not
-- its shortest text). Used where Python works on the exact value: float %, //, round, int().
CREATE OR REPLACE FUNCTION noetl.expr_f8_exact(p_x float8)
RETURNS numeric
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_bits bigint := ('x' || pg_catalog.encode(pg_catalog.float8send(p_x), 'hex'))::bit(64)::bigint;
    v_exp  integer := ((v_bits >> 52) & 2047)::integer;
    v_mant numeric := (v_bits & 4503599627370495)::numeric;
    v_r    numeric;
BEGIN
    IF v_exp = 2047 THEN
        PERFORM noetl.expr_error('float: non-finite float');
    END IF;
    IF v_exp = 0 THEN
        v_exp := -1074;
    ELSE
        v_mant := v_mant + 4503599627370496;
        v_exp := v_exp - 1075;
    END IF;
    IF v_exp >= 0 THEN
        v_r := pg_catalog.trunc(v_mant * pg_catalog.power(2::numeric, v_exp));
    ELSE
        -- m * 2^-k = m * 5^k * 10^-k, every step exact
        v_r := v_mant * pg_catalog.trunc(pg_catalog.power(5::numeric, -v_exp)) * ('1e' || v_exp)::numeric;
    END IF;
    RETURN CASE WHEN v_bits < 0 THEN -v_r ELSE v_r END;
END;
$$;

-- noetl.expr_to_f8(n) -> numeric to double, correctly rounded; an integer too large for a double
-- is an evaluation error (Python's OverflowError), a magnitude below the smallest subnormal is 0.
CREATE OR REPLACE FUNCTION noetl.expr_to_f8(p_n numeric)
RETURNS float8
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF pg_catalog.abs(p_n) >= 179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792
    THEN
        PERFORM noetl.expr_error('float: number too large for a float');
    END IF;
    IF p_n <> 0 AND pg_catalog.abs(p_n) < 2.4703282292062328e-324 THEN
        RETURN 0.0::float8;
    END IF;
    RETURN p_n::float8;
END;
$$;

-- noetl.expr_check_int(n) -> n, or an evaluation error beyond the integer limit 10^1000 (§3.3).
CREATE OR REPLACE FUNCTION noetl.expr_check_int(p_n numeric)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF pg_catalog.abs(p_n) > ('1e1000')::numeric THEN
        PERFORM noetl.expr_error('integer: magnitude exceeds 10^1000');
    END IF;
    RETURN pg_catalog.to_jsonb(p_n);
END;
$$;

-- noetl.expr_check_text(s) -> s as a jsonb string, or an evaluation error beyond 1,048,576 code
-- points (§3.3).
CREATE OR REPLACE FUNCTION noetl.expr_check_text(p_s text)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF pg_catalog.octet_length(p_s) > 1048576 AND pg_catalog.length(p_s) > 1048576 THEN
        PERFORM noetl.expr_error('string: longer than 1048576 characters');
    END IF;
    RETURN pg_catalog.to_jsonb(p_s);
END;
$$;
