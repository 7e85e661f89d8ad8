-- requires: shard
-- Truthiness inside expressions and the guard rule on the final value of a `when` (engine.md §3.5):
-- `and`/`or` return an operand and skip the other, `not` is a boolean, the string "False" is
-- truthy inside an expression but a false guard (EC-07), and a guard that fails raises (EC-02).
BEGIN;
\ir expr_nodes.psql
SELECT plan(30);

-- truthy() through `not`
SELECT is(ev(not_(nm('missing'))), 'true', 'undefined is falsy');
SELECT is(ev(not_(j('null'))), 'true', 'null is falsy');
SELECT is(ev(not_(j('0.0'))), 'true', '0.0 is falsy');
SELECT is(ev(not_(j('""'))), 'true', 'the empty string is falsy');
SELECT is(ev(not_(j('[]'))), 'true', 'an empty list is falsy');
SELECT is(ev(not_(j('{}'))), 'true', 'an empty object is falsy');
SELECT is(ev(not_(j('"False"'))), 'false', 'inside an expression the string "False" is truthy');
SELECT is(ev(not_(j('[0]'))), 'false', 'a non-empty list is truthy');
-- and / or / conditional
SELECT is(ev(and_(j('0'), j('"x"'))), '0', 'a and b returns a when a is falsy');
SELECT is(ev(and_(j('1'), j('"x"'))), '"x"', 'a and b returns b when a is truthy');
SELECT is(ev(or_(j('""'), j('[1]'))), '[1]', 'a or b returns b when a is falsy');
SELECT is(ev(or_(j('2'), bin(j('1'), '/', j('0')))), '2', 'or does not evaluate the right side when not needed');
SELECT is(ev(and_(j('false'), bin(j('1'), '/', j('0')))), 'false', 'and does not evaluate the right side when not needed');
SELECT is(ev(cond(j('"a"'), j('1'), j('2'))), '1', 'x if c else y');
SELECT is(ev(attr(cond(j('false'), j('1')), 'a')), 'undefined', 'a conditional without else is a chainable undefined (deviation 4)');
-- guard rule (EC-07)
SELECT is(noetl.eval_guard('{"v": {"lit": "False"}}', '{}'), false, 'EC-07: guard "False" is false');
SELECT is(noetl.eval_guard('{"v": {"lit": " no "}}', '{}'), false, 'EC-07: guard "no" (trimmed) is false');
SELECT is(noetl.eval_guard('{"v": {"lit": "OFF"}}', '{}'), false, 'EC-07: guard "OFF" (lower-cased) is false');
SELECT is(noetl.eval_guard('{"v": {"lit": "0"}}', '{}'), false, 'EC-07: guard "0" is false');
SELECT is(noetl.eval_guard('{"v": {"lit": ""}}', '{}'), false, 'EC-07: guard "" is false');
SELECT is(noetl.eval_guard('{"v": {"lit": "None"}}', '{}'), false, 'guard "None" is false');
SELECT is(noetl.eval_guard('{"v": {"lit": "req-123"}}', '{}'), true, 'EC-07: guard "req-123" is true');
SELECT is(noetl.eval_guard('{"v": {"lit": []}}', '{}') OR noetl.eval_guard('{"v": {"lit": {}}}', '{}'), false, 'EC-07: [] and {} are false guards');
SELECT is(noetl.eval_guard(jsonb_build_object('v', jsonb_build_object('x', attr(nm('ctx'), 'flag'))), '{"ctx": {"flag": "False"}}'),
          false, 'when: "{{ ctx.flag }}" with "False" is false');
SELECT is(noetl.eval_guard(jsonb_build_object('v', jsonb_build_object('x', attr(nm('missing'), 'flag'))), '{}'),
          false, 'EC-01: a guard on a missing name is false, no error');
SELECT is(noetl.eval_guard(NULL, '{}'), true, 'no guard (SQL NULL) is true');
SELECT is(noetl.eval_guard('null', '{}'), true, 'no guard (JSON null) is true');
SELECT is(noetl.eval_guard('{"v": {"lit": 0.0}}', '{}'), false, 'a zero number is a false guard');
SELECT throws_ok($$SELECT noetl.eval_guard(jsonb_build_object('v', jsonb_build_object('x',
                    x.cmp(x.attr(x.nm('ctx'), 'count'), '>', x.j('0')))), '{"ctx": {}}')$$,
                 'NT001', NULL, 'EC-02: a guard comparing undefined raises NT001, it is never false');
SELECT is(noetl.jinja_guard('"yes"') AND NOT noetl.jinja_guard(NULL) AND noetl.jinja_truthy('"False"'), true,
          'jinja_guard and jinja_truthy are callable on values');

SELECT * FROM finish();
ROLLBACK;
