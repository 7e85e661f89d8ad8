-- requires: shard
-- data-model.md §9.1 vars_*: upsert keeps created_at and access_count, JSON null is the literal
-- null, reads by name bump the counters, lists do not, deletes report counts; bad input is NE422;
-- an execution id the shard does not know may hold variables.
BEGIN;
SELECT plan(14);

SELECT is(noetl.vars_set(42, '{"a": 1, "b": null, "c": {"x": [1, 2]}}', 'user_defined', 'setup'), 3, 'three set');
SELECT is((SELECT var_value FROM noetl.transient WHERE execution_id = 42 AND var_name = 'b'), 'null'::jsonb,
          'a JSON null is stored as the JSON literal');
SELECT is((SELECT array_agg(var_name) FROM noetl.vars_list(42)), ARRAY['a', 'b', 'c'], 'list by name');
SELECT is((SELECT access_count FROM noetl.vars_get(42, 'a')), 1, 'get bumps the count');
SELECT is((SELECT access_count FROM noetl.vars_get(42, 'a')), 2, 'and again');
SELECT is((SELECT sum(access_count)::int FROM noetl.vars_list(42)), 2, 'list does not bump');
UPDATE noetl.transient SET created_at = now() - interval '1 hour' WHERE execution_id = 42 AND var_name = 'a';
SELECT is(noetl.vars_set(42, '{"a": "two"}', 'computed', NULL), 1, 'upsert');
SELECT is((SELECT jsonb_build_object('v', var_value, 't', var_type, 's', source_step, 'n', access_count,
                                     'old', created_at < now() - interval '30 minutes')
             FROM noetl.transient WHERE execution_id = 42 AND var_name = 'a'),
          '{"v": "two", "t": "computed", "s": null, "n": 2, "old": true}'::jsonb,
          'update replaces value, type and source; keeps created_at and access_count');
SELECT is((SELECT count(*)::int FROM noetl.vars_get(42, 'nope')), 0, 'absent: no row');
SELECT throws_ok($$SELECT noetl.vars_set(42, '{"a": 1}', 'bearer_token')$$, 'NE422', NULL, 'unknown var_type');
SELECT throws_ok($$SELECT noetl.vars_set(42, '[1]')$$, 'NE422', NULL, 'not an object');
SELECT throws_ok($$SELECT noetl.vars_set(42, '{" ": 1}')$$, 'NE422', NULL, 'empty name');
SELECT is(noetl.vars_delete(42, 'a') || ' ' || noetl.vars_delete(42, 'a'), '1 0', 'delete one, then nothing');
SELECT is(noetl.vars_delete(42) || ' ' || noetl.vars_delete(42), '2 0', 'delete all, then nothing');

SELECT * FROM finish();
ROLLBACK;
