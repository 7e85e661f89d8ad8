-- requires: shard
-- Evaluation errors raise SQLSTATE NT001 with "<construct>: <reason>" (engine.md §3.11) and the
-- limits of §3.3: integers up to 10^1000, strings up to 1,048,576 code points, lists up to
-- 100,000 items by repetition, no non-finite floats. Every function is IMMUTABLE and PARALLEL SAFE.
BEGIN;
\ir expr_nodes.psql
SELECT plan(16);

SELECT throws_ok($$SELECT noetl.eval_value('{"x": {"k": "bin", "op": "/", "l": {"k": "lit", "v": 1}, "r": {"k": "lit", "v": 0}}}', '{}')$$,
                 'NT001', '''/'': division by zero', 'an evaluation error is SQLSTATE NT001 with its message');
SELECT is(err(cmp(nm('x'), '<', j('1'))), '''<'' not supported between undefined and integer', 'the message names the construct and types');
SELECT is(err(flt('keys', j('1'))), 'filter ''keys'' on integer', 'a filter on a wrong type names the filter');
SELECT is(err(jsonb_build_object('k', 'call', 'n', 'now')), 'expression: unknown node kind call', 'an unknown node kind is an error');
SELECT ok(NOT fails(bin(j('10'), '**', j('1000'))), '10 ** 1000 is within the integer limit');
SELECT ok(fails(bin(j('10'), '**', j('1001'))), '10 ** 1001 exceeds the integer limit');
SELECT ok(fails(bin(bin(j('10'), '**', j('1000')), '*', j('10'))), 'a product beyond 10^1000 is an error');
SELECT ok(fails(bin(j('"ab"'), '*', j('600000'))), 'a string of more than 1,048,576 characters is an error');
SELECT is(ev(flt('length', bin(j('"a"'), '*', j('1048576')))), '1048576', 'a string of exactly 1,048,576 characters is fine');
SELECT ok(fails(bin(j('[1, 2]'), '*', j('50001'))), 'a list of more than 100,000 items by repetition is an error');
SELECT ok(fails(bin(flt('float', j('"1e300"')), '*', j('1.5'))) = false
          AND fails(bin(flt('float', j('"1e300"')), '*', flt('float', j('"1e300"')))), 'a float overflow is an error (deviation 5)');
SELECT is(ev(bin(j('1e-300'), '*', j('1e-300'))), '0.0', 'a float underflow is 0.0, as in Python');
SELECT ok(fails(bin(j('10.0'), '**', j('400'))), 'float ** overflowing is an error');
SELECT is((SELECT count(*)::integer FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
           WHERE n.nspname = 'noetl' AND (p.proname LIKE 'expr\_%' OR p.proname LIKE 'eval\_%' OR p.proname LIKE 'jinja\_%')
             AND p.proname NOT IN ('eval_field', 'eval_field_located', 'eval_guard_field')
             AND (p.provolatile <> 'i' OR p.proparallel <> 's')), 0,
          'every evaluator function is IMMUTABLE and PARALLEL SAFE');
SELECT is(noetl.eval_value(NULL, '{}'), NULL, 'a NULL spec is undefined');
SELECT throws_ok($$SELECT noetl.eval_value('{"nope": 1}', '{}')$$, 'NT001', 'expression: not a value spec', 'an unknown spec is an error');

SELECT * FROM finish();
ROLLBACK;
