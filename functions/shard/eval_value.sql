-- Expression evaluator: the tree walk and the entry points the orchestrator calls.
--
-- Control-flow fields (step/arc `when`, `loop.in`, `max_in_flight`, `set` values) are compiled at
-- registration (noetl_pg/expr.py) into the JSON trees of engine.md §3.2, wrapped in the value specs
-- of §2.4, and evaluated here with Jinja2 3.1 + ChainableUndefined semantics and the deliberate
-- deviations of §3.12. The value model, text conversion, operators and filters live in
-- expr_values.sql, expr_text.sql, expr_ops.sql and expr_filters.sql.
--
-- Contract for callers:
--   * SQL NULL is undefined, both in and out (a missing name, attribute or item; `x if c`).
--   * An evaluation error raises SQLSTATE 'NT001' with the message "<construct>: <reason>", for
--     example "'<' not supported between undefined and integer" or "filter 'int' on undefined".
--     The caller prefixes the field location (compiled field "at") and fails the execution; an
--     error is never a false guard.
--   * Everything is IMMUTABLE and PARALLEL SAFE: the result depends on the arguments only.
--
-- Entry points:
--   noetl.eval_value(spec, ctx)          -> jsonb   value of a spec (or of a compiled field)
--   noetl.eval_guard(field, ctx)         -> boolean guard rule (§3.5); a NULL field is true
--   noetl.eval_collection(field, ctx)    -> jsonb   loop collection rule (§6.6)
--   noetl.eval_max_in_flight(field, ctx) -> integer max_in_flight (§3.10); NULL = no limit
--   noetl.jinja_text(v), noetl.jinja_truthy(v), noetl.jinja_guard(v) for the value rules alone.

-- noetl.expr_eval(node, ctx) -> the native value of one expression node; NULL = undefined.
-- Children are evaluated through noetl.expr_ev (below), which answers literals, names and
-- attributes of names inline; only composite nodes cost a PL/pgSQL call. Kinds are tested in
-- the order of their frequency in real guards. A value handed to an SQL helper (jinja_truthy)
-- is first put in a variable so the planner can inline the helper.
CREATE OR REPLACE FUNCTION noetl.expr_eval(p_n jsonb, p_ctx jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_k     text := p_n ->> 'k';
    v_c     jsonb;
    v_l     jsonb;
    v_r     jsonb;
    v_op    text;
    v_i     integer;
    v_n     integer;
    v_t     text;
    v_s     text;
    v_ok    boolean;
    v_a     jsonb[];
    v_given integer;
    v_par   text[];
    v_args  jsonb;
    v_kw    jsonb;
BEGIN
    CASE v_k
    WHEN 'cmp' THEN
        -- a < b < c means a < b and b < c, b evaluated once, stopping at the first false
        v_c := p_n -> 'ops';
        v_l := noetl.expr_ev(p_n -> 'l', p_ctx);
        FOR v_i IN 0 .. pg_catalog.jsonb_array_length(v_c) - 1 LOOP
            v_op := v_c -> v_i ->> 0;
            v_r := noetl.expr_ev(v_c -> v_i -> 1, p_ctx);
            v_ok := CASE v_op
                WHEN '==' THEN COALESCE(v_l = v_r, false) OR noetl.expr_eq(v_l, v_r)   -- NULL is undefined
                WHEN '!=' THEN NOT (COALESCE(v_l = v_r, false) OR noetl.expr_eq(v_l, v_r))
                WHEN 'in' THEN noetl.expr_in(v_l, v_r)
                WHEN 'not in' THEN NOT noetl.expr_in(v_l, v_r)
                ELSE CASE WHEN pg_catalog.jsonb_typeof(v_l) = 'number' AND pg_catalog.jsonb_typeof(v_r) = 'number'
                               AND v_op IN ('<', '<=', '>', '>=')
                          THEN CASE v_op WHEN '<' THEN v_l < v_r WHEN '<=' THEN v_l <= v_r
                                         WHEN '>' THEN v_l > v_r ELSE v_l >= v_r END   -- jsonb numbers order numerically
                          ELSE noetl.expr_less(v_l, v_r, v_op) END
                END;
            IF NOT v_ok THEN
                RETURN 'false'::jsonb;
            END IF;
            v_l := v_r;
        END LOOP;
        RETURN 'true'::jsonb;

    WHEN 'and' THEN
        v_l := noetl.expr_ev(p_n -> 'l', p_ctx);
        IF NOT noetl.jinja_truthy(v_l) THEN
            RETURN v_l;
        END IF;
        RETURN noetl.expr_ev(p_n -> 'r', p_ctx);

    WHEN 'filter' THEN
        v_l := noetl.expr_ev(p_n -> 'x', p_ctx);
        v_t := p_n ->> 'name';
        v_args := p_n -> 'args';
        v_kw := p_n -> 'kw';
        IF v_kw IS NULL OR v_kw = '{}'::jsonb THEN
            -- positional arguments only (the common case); arguments are always evaluated
            v_n := COALESCE(pg_catalog.jsonb_array_length(v_args), 0);
            IF v_n = 0 THEN
                IF v_t = 'int' AND pg_catalog.jsonb_typeof(v_l) = 'number' AND pg_catalog.scale(v_l::numeric) = 0 THEN
                    RETURN v_l;
                END IF;
                RETURN noetl.expr_filter(v_t, v_l, NULL, NULL, NULL, 0);
            ELSIF v_n > 3 THEN
                PERFORM noetl.expr_error(pg_catalog.format('filter ''%s'': too many arguments', v_t));
            END IF;
            v_r := noetl.expr_ev(v_args -> 0, p_ctx);
            IF v_n = 1 THEN
                IF v_t = 'default' THEN
                    RETURN COALESCE(v_l, v_r);
                END IF;
                RETURN noetl.expr_filter(v_t, v_l, v_r, NULL, NULL, 1);
            END IF;
            v_c := noetl.expr_ev(v_args -> 1, p_ctx);
            IF v_n = 2 THEN
                RETURN noetl.expr_filter(v_t, v_l, v_r, v_c, NULL, 3);
            END IF;
            RETURN noetl.expr_filter(v_t, v_l, v_r, v_c, noetl.expr_ev(v_args -> 2, p_ctx), 7);
        END IF;
        -- keyword arguments: match them to the filter's parameters (names as in Jinja2)
        v_args := COALESCE(v_args, '[]'::jsonb);
        v_a := ARRAY[NULL, NULL, NULL]::jsonb[];
        v_given := 0;
        v_par := CASE v_t
            WHEN 'default' THEN '{default_value,boolean}'::text[]
            WHEN 'int' THEN '{default}'::text[]
            WHEN 'float' THEN '{default}'::text[]
            WHEN 'trim' THEN '{chars}'::text[]
            WHEN 'round' THEN '{precision,method}'::text[]
            WHEN 'join' THEN '{d}'::text[]
            WHEN 'replace' THEN '{old,new,count}'::text[]
            ELSE '{}'::text[] END;
        v_n := pg_catalog.jsonb_array_length(v_args);
        IF v_n > COALESCE(pg_catalog.array_length(v_par, 1), 0) THEN
            PERFORM noetl.expr_error(pg_catalog.format('filter ''%s'': too many arguments', v_t));
        END IF;
        FOR v_i IN 1 .. COALESCE(pg_catalog.array_length(v_par, 1), 0) LOOP
            IF v_i <= v_n THEN
                IF v_kw ? v_par[v_i] THEN
                    PERFORM noetl.expr_error(pg_catalog.format('filter ''%s'': argument ''%s'' given twice', v_t, v_par[v_i]));
                END IF;
                v_a[v_i] := noetl.expr_ev(v_args -> (v_i - 1), p_ctx);
                v_given := v_given | (1 << (v_i - 1));
            ELSIF v_kw ? v_par[v_i] THEN
                v_a[v_i] := noetl.expr_ev(v_kw -> v_par[v_i], p_ctx);
                v_given := v_given | (1 << (v_i - 1));
            END IF;
        END LOOP;
        IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(v_kw) AS k WHERE k <> ALL (v_par)) THEN
            PERFORM noetl.expr_error(pg_catalog.format('filter ''%s'': unknown argument', v_t));
        END IF;
        RETURN noetl.expr_filter(v_t, v_l, v_a[1], v_a[2], v_a[3], v_given);

    WHEN 'or' THEN
        v_l := noetl.expr_ev(p_n -> 'l', p_ctx);
        IF noetl.jinja_truthy(v_l) THEN
            RETURN v_l;
        END IF;
        RETURN noetl.expr_ev(p_n -> 'r', p_ctx);

    WHEN 'not' THEN
        v_l := noetl.expr_ev(p_n -> 'x', p_ctx);
        RETURN pg_catalog.to_jsonb(NOT noetl.jinja_truthy(v_l));

    WHEN 'test' THEN
        v_l := noetl.expr_ev(p_n -> 'x', p_ctx);
        v_t := pg_catalog.jsonb_typeof(v_l);
        RETURN pg_catalog.to_jsonb(CASE p_n ->> 'name'
            WHEN 'defined' THEN v_l IS NOT NULL
            WHEN 'undefined' THEN v_l IS NULL
            WHEN 'none' THEN v_t IS NOT DISTINCT FROM 'null'
            WHEN 'number' THEN COALESCE(v_t IN ('number', 'boolean'), false)
            WHEN 'string' THEN v_t IS NOT DISTINCT FROM 'string'
            WHEN 'mapping' THEN v_t IS NOT DISTINCT FROM 'object'
            WHEN 'sequence' THEN v_l IS NULL OR v_t IN ('string', 'array', 'object')
            ELSE noetl.expr_error(pg_catalog.format('test ''%s'': not supported', p_n ->> 'name')) IS NULL END);

    WHEN 'attr' THEN
        v_l := noetl.expr_ev(p_n -> 'o', p_ctx);
        IF pg_catalog.jsonb_typeof(v_l) = 'object' THEN
            RETURN v_l -> (p_n ->> 'a');
        END IF;
        RETURN NULL;                       -- attributes of anything else are undefined (§3.4)

    WHEN 'item' THEN
        v_l := noetl.expr_ev(p_n -> 'o', p_ctx);
        v_r := noetl.expr_ev(p_n -> 'i', p_ctx);
        v_t := pg_catalog.jsonb_typeof(v_l);
        IF v_t = 'object' THEN
            IF pg_catalog.jsonb_typeof(v_r) = 'string' THEN
                RETURN v_l -> (v_r #>> '{}');
            END IF;
            RETURN NULL;                   -- {"0": 1}[0] is undefined
        ELSIF v_t IN ('array', 'string') THEN
            IF pg_catalog.jsonb_typeof(v_r) = 'boolean' THEN
                v_i := CASE WHEN v_r = 'true'::jsonb THEN 1 ELSE 0 END;
            ELSIF pg_catalog.jsonb_typeof(v_r) = 'number' AND pg_catalog.scale(v_r::numeric) = 0
                  AND pg_catalog.abs(v_r::numeric) < 2000000000 THEN
                v_i := v_r::integer;
            ELSE
                RETURN NULL;               -- float, string or huge index
            END IF;
            IF v_t = 'array' THEN
                RETURN v_l -> v_i;         -- negative counts from the end; out of range is NULL
            END IF;
            v_s := v_l #>> '{}';
            v_n := pg_catalog.length(v_s);
            IF v_i < 0 THEN
                v_i := v_i + v_n;
            END IF;
            IF v_i < 0 OR v_i >= v_n THEN
                RETURN NULL;
            END IF;
            RETURN pg_catalog.to_jsonb(pg_catalog.substr(v_s, v_i + 1, 1));
        END IF;
        RETURN NULL;

    WHEN 'cat' THEN
        v_s := '';
        FOR v_i IN 0 .. pg_catalog.jsonb_array_length(p_n -> 'parts') - 1 LOOP
            v_s := v_s || noetl.jinja_text(noetl.expr_ev(p_n -> 'parts' -> v_i, p_ctx));
        END LOOP;
        RETURN noetl.expr_check_text(v_s);

    WHEN 'bin' THEN
        RETURN noetl.expr_arith(p_n ->> 'op', noetl.expr_ev(p_n -> 'l', p_ctx), noetl.expr_ev(p_n -> 'r', p_ctx));

    WHEN 'cond' THEN
        v_l := noetl.expr_ev(p_n -> 'test', p_ctx);
        IF noetl.jinja_truthy(v_l) THEN
            RETURN noetl.expr_ev(p_n -> 'then', p_ctx);
        END IF;
        v_c := p_n -> 'else';
        IF v_c IS NULL OR v_c = 'null'::jsonb THEN
            RETURN NULL;                   -- no else: a chainable undefined (deviation 4)
        END IF;
        RETURN noetl.expr_ev(v_c, p_ctx);

    WHEN 'name' THEN
        RETURN p_ctx -> (p_n ->> 'n');

    WHEN 'lit' THEN
        RETURN p_n -> 'v';

    WHEN 'list' THEN
        v_r := '[]'::jsonb;
        FOR v_i IN 0 .. pg_catalog.jsonb_array_length(p_n -> 'items') - 1 LOOP
            -- an undefined member becomes null (deviation 3)
            v_r := v_r || pg_catalog.jsonb_build_array(COALESCE(noetl.expr_ev(p_n -> 'items' -> v_i, p_ctx), 'null'::jsonb));
        END LOOP;
        RETURN v_r;

    WHEN 'dict' THEN
        v_r := '{}'::jsonb;
        FOR v_i IN 0 .. pg_catalog.jsonb_array_length(p_n -> 'items') - 1 LOOP
            v_r := v_r || pg_catalog.jsonb_build_object(p_n -> 'items' -> v_i ->> 0,
                                                        COALESCE(noetl.expr_ev(p_n -> 'items' -> v_i -> 1, p_ctx), 'null'::jsonb));
        END LOOP;
        RETURN v_r;

    WHEN 'neg', 'pos' THEN
        RETURN noetl.expr_unary(CASE WHEN v_k = 'neg' THEN '-' ELSE '+' END, noetl.expr_ev(p_n -> 'x', p_ctx));

    ELSE
        PERFORM noetl.expr_error(pg_catalog.format('expression: unknown node kind %s', COALESCE(v_k, 'null')));
    END CASE;
    RETURN NULL;
END;
$$;

-- noetl.expr_ev(node, ctx) -> noetl.expr_eval(node, ctx), with the leaves that make up most of
-- real guards (literals, names, attributes of names) answered without a PL/pgSQL call. It is an
-- SQL function so the planner inlines it into the expressions of noetl.expr_eval.
CREATE OR REPLACE FUNCTION noetl.expr_ev(p_n jsonb, p_ctx jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE p_n ->> 'k'
        WHEN 'lit' THEN p_n -> 'v'
        WHEN 'attr' THEN CASE WHEN p_n -> 'o' ->> 'k' = 'name'
                              THEN p_ctx -> (p_n -> 'o' ->> 'n') -> (p_n ->> 'a')
                              ELSE noetl.expr_eval(p_n, p_ctx) END
        WHEN 'name' THEN p_ctx -> (p_n ->> 'n')
        ELSE noetl.expr_eval(p_n, p_ctx) END
$$;

-- noetl.eval_value(spec, ctx) -> the value of a value spec (§2.4) against a render context:
-- {"lit": v} is v; {"x": node} the native value (NULL = undefined); {"tpl": [parts]} a string
-- (text parts verbatim, node parts through noetl.jinja_text); {"obj": {...}} / {"arr": [...]}
-- containers whose undefined members are null. A compiled field {"at", "src", "v"} is accepted
-- too and evaluates its "v". A NULL spec is undefined. Errors: NT001.
CREATE OR REPLACE FUNCTION noetl.eval_value(p_spec jsonb, p_ctx jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_spec jsonb := p_spec;
    v_ctx  jsonb := COALESCE(p_ctx, '{}'::jsonb) || '{}'::jsonb;   -- detoast once, not per lookup
    v_part jsonb;
    v_s    text;
    v_r    jsonb;
    v_key  text;
BEGIN
    IF v_spec IS NULL OR v_spec = 'null'::jsonb THEN
        RETURN NULL;
    END IF;
    IF v_spec ? 'v' AND NOT (v_spec ? 'x' OR v_spec ? 'lit' OR v_spec ? 'tpl') THEN
        v_spec := v_spec -> 'v';                  -- a compiled field
    END IF;
    IF v_spec ? 'x' THEN
        RETURN noetl.expr_ev(v_spec -> 'x', v_ctx);
    ELSIF v_spec ? 'lit' THEN
        RETURN v_spec -> 'lit';
    ELSIF v_spec ? 'tpl' THEN
        v_s := '';
        FOR v_part IN SELECT e FROM pg_catalog.jsonb_array_elements(v_spec -> 'tpl') AS e LOOP
            IF pg_catalog.jsonb_typeof(v_part) = 'string' THEN
                v_s := v_s || (v_part #>> '{}');
            ELSE
                v_s := v_s || noetl.jinja_text(noetl.expr_ev(v_part, v_ctx));
            END IF;
        END LOOP;
        RETURN noetl.expr_check_text(v_s);
    ELSIF v_spec ? 'obj' THEN
        v_r := '{}'::jsonb;
        FOR v_key, v_part IN SELECT k, e FROM pg_catalog.jsonb_each(v_spec -> 'obj') AS t(k, e) LOOP
            v_r := v_r || pg_catalog.jsonb_build_object(v_key, COALESCE(noetl.eval_value(v_part, v_ctx), 'null'::jsonb));
        END LOOP;
        RETURN v_r;
    ELSIF v_spec ? 'arr' THEN
        RETURN COALESCE((SELECT pg_catalog.jsonb_agg(COALESCE(noetl.eval_value(e, v_ctx), 'null'::jsonb) ORDER BY n)
                         FROM pg_catalog.jsonb_array_elements(v_spec -> 'arr') WITH ORDINALITY AS t(e, n)), '[]'::jsonb);
    END IF;
    PERFORM noetl.expr_error('expression: not a value spec');
    RETURN NULL;
END;
$$;

-- noetl.eval_guard(field, ctx) -> the guard rule (§3.5) applied to the value of a compiled guard
-- field (step or arc `when`). A NULL (or JSON null) field is no guard: true. Errors: NT001.
CREATE OR REPLACE FUNCTION noetl.eval_guard(p_field jsonb, p_ctx jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_v jsonb;
BEGIN
    IF p_field IS NULL OR p_field = 'null'::jsonb THEN
        RETURN true;
    END IF;
    IF p_field -> 'v' ? 'x' THEN                      -- the usual case, without eval_value's dispatch
        v_v := noetl.expr_ev(p_field -> 'v' -> 'x', COALESCE(p_ctx, '{}'::jsonb) || '{}'::jsonb);
    ELSE
        v_v := noetl.eval_value(p_field, p_ctx);
    END IF;
    RETURN noetl.jinja_guard(v_v);                   -- a variable, so jinja_guard is inlined
END;
$$;

-- noetl.eval_collection(field, ctx) -> the loop collection (§6.6): a list as is, null as [], a
-- string holding a JSON array as that array; undefined and anything else raise NT001.
CREATE OR REPLACE FUNCTION noetl.eval_collection(p_field jsonb, p_ctx jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_v jsonb := noetl.eval_value(p_field, p_ctx);
    v_j jsonb;
BEGIN
    CASE pg_catalog.jsonb_typeof(v_v)
        WHEN 'array' THEN
            RETURN v_v;
        WHEN 'null' THEN
            RETURN '[]'::jsonb;
        WHEN 'string' THEN
            IF pg_catalog.ltrim(v_v #>> '{}', E' \t\n\r') LIKE '[%' THEN
                BEGIN
                    v_j := (v_v #>> '{}')::jsonb;
                EXCEPTION WHEN invalid_text_representation THEN
                    v_j := NULL;
                END;
                IF pg_catalog.jsonb_typeof(v_j) = 'array' THEN
                    RETURN v_j;
                END IF;
            END IF;
        ELSE
            IF v_v IS NULL THEN
                PERFORM noetl.expr_error('loop.in is undefined');
            END IF;
    END CASE;
    PERFORM noetl.expr_error(pg_catalog.format('loop.in must evaluate to a list, got %s', noetl.expr_type(v_v)));
    RETURN NULL;
END;
$$;

-- noetl.eval_max_in_flight(field, ctx) -> the loop's concurrency limit (§3.10): NULL (no limit)
-- for a missing field, undefined or null; otherwise the `int` filter of the value (default 0),
-- raised to at least 1. Errors: NT001.
CREATE OR REPLACE FUNCTION noetl.eval_max_in_flight(p_field jsonb, p_ctx jsonb)
RETURNS integer
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_v jsonb;
BEGIN
    IF p_field IS NULL OR p_field = 'null'::jsonb THEN
        RETURN NULL;
    END IF;
    v_v := noetl.eval_value(p_field, p_ctx);
    IF v_v IS NULL OR v_v = 'null'::jsonb THEN
        RETURN NULL;
    END IF;
    RETURN LEAST(GREATEST(noetl.expr_to_int(v_v, '0'::jsonb)::numeric, 1), 2147483647)::integer;
END;
$$;
