-- requires: shard
-- engine.md §7.1–§7.3 and data-model.md §4.4, §5.7, §9.1: the pure helpers — call-result
-- extraction rules 1–8, outcome classification, single-tool binding, status normalisation,
-- result shaping and command-id parsing.
BEGIN;
SELECT plan(24);

SELECT is(noetl.extract_call_result('{"result": {"status": "x", "context": {"status": "ok", "data": {"n": 1}, "context_updates": {"ctx.a": 1}}}}'),
          '{"data": {"n": 1}, "status": "ok", "error": null, "updates": {"ctx.a": 1}}'::jsonb, 'rule 2: Rust tool result');
SELECT is(noetl.extract_call_result('{"result": {"status": "OK", "context": {"n": 1}}}') -> 'data', '{"n": 1}'::jsonb, 'rule 3');
SELECT is(noetl.extract_call_result('{"result": {"status": "ok", "data": [1]}}') -> 'data', '[1]'::jsonb, 'rule 4');
SELECT is(noetl.extract_call_result('{"response": {"data": 5, "status": "Error", "error": "e"}}'),
          '{"data": 5, "status": "error", "error": "e", "updates": {}}'::jsonb, 'rule 5, status lower-cased');
SELECT is(noetl.extract_call_result('{"response": "raw", "status": "ok"}') -> 'data', '"raw"'::jsonb, 'rule 6');
SELECT is(noetl.extract_call_result('{"data": {"x": 1, "_context_updates": {"k": 2}}}') -> 'updates', '{"k": 2}'::jsonb, 'rule 7 and _context_updates');
SELECT is(noetl.extract_call_result('{"status": "ok"}') -> 'data', 'null'::jsonb, 'rule 8');
SELECT is(noetl.extract_call_result('{"result": {"status": "ok", "reference": {"ref": "noetl://execution/1/result/x/9"}}}') -> 'data',
          '{"_ref": {"ref": "noetl://execution/1/result/x/9"}}'::jsonb, 'rule 1 unresolvable');
INSERT INTO noetl.result_ref (ref_id, ref, execution_id, name, scope, store_tier) VALUES (9, 'noetl://execution/1/result/x/9', 1, 'x', 'step', 'db');
INSERT INTO noetl.result_blob (ref_id, execution_id, data) VALUES (9, 1, '{"status": "ok", "data": {"big": true}, "context_updates": {"ctx.z": 1}}');
SELECT is(noetl.extract_call_result('{"result": {"status": "ok", "reference": {"ref": "noetl://execution/1/result/x/9"}}}'),
          '{"data": {"big": true}, "status": "ok", "error": null, "updates": {"ctx.z": 1}}'::jsonb, 'rule 1 resolved envelope');

SELECT is((noetl.classify_outcome('command.failed', '{"error": "boom"}', NULL, NULL, NULL)).error, 'boom', 'command.failed: payload error');
SELECT is((noetl.classify_outcome('command.failed', '{}', NULL, NULL, NULL)).error, 'command failed', 'command.failed: default text');
SELECT is((noetl.classify_outcome('command.completed', '{}', NULL, '{"status": "ok"}', 'call broke')).ok, false, 'a call.error fails the step');
SELECT is((noetl.classify_outcome('command.completed', '{}', NULL, '{"status": "timeout", "error": null}', NULL)).error,
          'tool returned status ''timeout''', 'tool status timeout');
SELECT is((noetl.classify_outcome('command.completed', '{"status": "error", "error": {"type": "E"}}', NULL, '{"status": null}', NULL)).error,
          '{"type": "E"}', 'the sent status; a non-string error as JSON text');
SELECT is((noetl.classify_outcome('command.completed', '{"status": "success"}', NULL, '{"status": "ok"}', NULL)).ok, true, 'ok');

SELECT is(noetl.step_binding('{"data": {"a": 1, "_context_updates": {"x": 1}}}', '{"form": "single"}'), '{"a": 1}'::jsonb, '§7.3 binding');
SELECT is(noetl.step_binding('{"data": null}', '{"form": "single"}'), 'null'::jsonb, 'nothing returned binds null');

SELECT is(ARRAY[noetl.normalize_event_status('ok', 'call.done'), noetl.normalize_event_status('Timeout', 'x'),
                noetl.normalize_event_status('canceled', 'x'), noetl.normalize_event_status(NULL, 'command.cancel'),
                noetl.normalize_event_status('', 'call.error'), noetl.normalize_event_status(NULL, 'step.exit'),
                noetl.normalize_event_status(NULL, 'command.started'), noetl.normalize_event_status('started', 'x')],
          ARRAY['COMPLETED', 'FAILED', 'CANCELLED', 'CANCELLED', 'FAILED', 'COMPLETED', 'RUNNING', 'STARTED'], 'status normalisation');
SELECT is(noetl.shape_event_result('COMPLETED', '"v"'), '{"status": "COMPLETED", "context": {"value": "v"}}'::jsonb, 'shape a scalar');
SELECT is(noetl.shape_event_result('COMPLETED', NULL), '{"status": "COMPLETED"}'::jsonb, 'shape null');
SELECT is(noetl.shape_event_result('COMPLETED', '{"a": 1}', 'ref', 'gs://b/o'),
          '{"status": "COMPLETED", "reference": {"store_tier": "gcs", "logical_uri": "gs://b/o"}, "context": {"a": 1}}'::jsonb, 'shape a ref');
SELECT is(noetl.shape_event_result('COMPLETED', NULL, 'refs', NULL, '[1, 2]'),
          '{"status": "COMPLETED", "reference": {"event_ids": [1, 2], "total_parts": 2}}'::jsonb, 'shape refs');
SELECT is(ARRAY[noetl.parse_command_id('123'), noetl.parse_command_id('"45"'), noetl.parse_command_id('"1:a:b:678"'),
                noetl.parse_command_id('"1:st:9:i3"'), noetl.parse_command_id('"nope"'), noetl.parse_command_id('"99999999999999999999"')],
          ARRAY[123, 45, 678, 9, NULL, NULL]::bigint[], 'command id parsing');
SELECT is(ARRAY[noetl.update_var_name('ctx.a'), noetl.update_var_name('iter.b'), noetl.update_var_name('step.c'),
                noetl.update_var_name('d'), noetl.update_var_name('foo.e'), noetl.update_var_name('ctx.a.b')],
          ARRAY['a', 'b', 'c', 'd', NULL, NULL], 'update keys');

SELECT * FROM finish();
ROLLBACK;
