-- requires: shard
-- Value specs (engine.md §2.4, §3.10) and the field helpers the orchestrator calls: native values
-- of single expressions, text of mixed templates, containers whose undefined members are null
-- (EC-10), the loop collection rule (EC-31) and max_in_flight (EC-34).
BEGIN;
\ir expr_nodes.psql
SELECT plan(24);

-- EC-10: set: {ctx.n: "{{ 5 }}", ctx.s: "n={{ 5 }}", ctx.f: "{{ 6 / 2 }}", ctx.u: "{{ missing }}"}
SELECT is(noetl.eval_value(jsonb_build_object('x', lit('5')), '{}')::text, '5', 'EC-10: "{{ 5 }}" is the integer 5');
SELECT is(noetl.eval_value('{"tpl": ["n=", {"k": "lit", "v": 5}]}', '{}'), '"n=5"', 'EC-10: "n={{ 5 }}" is "n=5"');
SELECT is(noetl.eval_value(jsonb_build_object('x', bin(lit('6'), '/', lit('2'))), '{}')::text, '3.0', 'EC-10: "{{ 6 / 2 }}" is stored as 3.0');
SELECT is(noetl.eval_value(jsonb_build_object('x', nm('missing')), '{}'), NULL, 'EC-10: "{{ missing }}" is undefined (stored as null by the caller)');
SELECT is(noetl.eval_value('{"lit": {"a": [1, "{{ not rendered }}"]}}', '{}'), '{"a": [1, "{{ not rendered }}"]}', 'a lit spec is its value');
SELECT is(noetl.eval_value(jsonb_build_object('obj', jsonb_build_object('a', jsonb_build_object('x', nm('n')),
                                                                        'b', jsonb_build_object('x', nm('missing')),
                                                                        'c', '{"lit": "k"}'::jsonb)), '{"n": 2}'),
          '{"a": 2, "b": null, "c": "k"}', 'an obj spec: undefined members become null');
SELECT is(noetl.eval_value(jsonb_build_object('arr', jsonb_build_array(jsonb_build_object('x', nm('missing')), '{"lit": 1}'::jsonb,
                                                                       '{"tpl": ["#", {"k": "name", "n": "n"}]}'::jsonb)), '{"n": 2}'),
          '[null, 1, "#2"]', 'an arr spec');
SELECT is(noetl.eval_value(jsonb_build_object('at', 'workflow[0].set.ctx.n', 'src', '{{ n }}', 'v', jsonb_build_object('x', nm('n'))), '{"n": 7}'),
          '7', 'a whole compiled field is accepted');
SELECT is(ev(list_(j('1'), nm('missing'))), '[1, null]', 'undefined members of a list literal become null (deviation 3)');
SELECT is(ev(dict_('{b,a}', ARRAY[nm('missing'), j('2')])), '{"a": 2, "b": null}', 'dict literals: jsonb key order, undefined -> null');
-- EC-31: the loop collection rule
SELECT is(noetl.eval_collection('{"v": {"lit": []}}', '{}'), '[]', 'EC-31: loop over [] is empty');
SELECT is(noetl.eval_collection('{"v": {"lit": null}}', '{}'), '[]', 'EC-31: loop over null is empty');
SELECT is(noetl.eval_collection('{"v": {"lit": "[1,2]"}}', '{}'), '[1, 2]', 'EC-31: loop over the string ''[1,2]'' has two items');
SELECT throws_ok($$SELECT noetl.eval_collection('{"v": {"x": {"k": "name", "n": "missing"}}}', '{}')$$,
                 'NT001', 'loop.in is undefined', 'EC-31: loop over undefined is an evaluation error');
SELECT throws_ok($$SELECT noetl.eval_collection('{"v": {"lit": {"a": 1}}}', '{}')$$,
                 'NT001', 'loop.in must evaluate to a list, got object', 'EC-31: loop over an object is an evaluation error');
SELECT throws_ok($$SELECT noetl.eval_collection('{"v": {"lit": "a,b"}}', '{}')$$,
                 'NT001', 'loop.in must evaluate to a list, got string', 'a string that is not a JSON array is an error');
SELECT is(noetl.eval_collection(jsonb_build_object('v', jsonb_build_object('x', attr(nm('workload'), 'items'))),
                                '{"workload": {"items": [{"id": 1}]}}'), '[{"id": 1}]', 'a collection from the context');
-- EC-34: max_in_flight
SELECT is(noetl.eval_max_in_flight(jsonb_build_object('v', jsonb_build_object('x',
              or_(flt('int', flt('default', nm('n'), j('1'))), j('1')))), '{}'), 1,
          'EC-34: "{{ (n | default(1) | int) or 1 }}" with n undefined is 1');
SELECT is(noetl.eval_max_in_flight('{"v": {"x": {"k": "lit", "v": 0}}}', '{}'), 1, 'EC-34: "{{ 0 }}" becomes 1');
SELECT is(noetl.eval_max_in_flight('{"v": {"x": {"k": "lit", "v": "5"}}}', '{}'), 5, 'max_in_flight "5" is 5');
SELECT is(noetl.eval_max_in_flight('{"v": {"lit": 5.9}}', '{}'), 5, 'max_in_flight 5.9 is 5');
SELECT is(noetl.eval_max_in_flight('{"v": {"x": {"k": "lit", "v": "abc"}}}', '{}'), 1, 'max_in_flight "abc" is 1');
SELECT is(noetl.eval_max_in_flight('{"v": {"x": {"k": "name", "n": "missing"}}}', '{}'), NULL, 'undefined max_in_flight is no limit');
SELECT is(noetl.eval_max_in_flight(NULL, '{}'), NULL, 'no max_in_flight is no limit');

SELECT * FROM finish();
ROLLBACK;
