-- requires: shard
-- Text conversion (engine.md §3.7) through `~`, mixed templates and the string filter: None,
-- True/False, Python repr of floats (EC-52) and of containers, undefined as '', and the tpl spec.
BEGIN;
\ir expr_nodes.psql
SELECT plan(28);

-- EC-52, as the tpl specs of "{{ 1 / 3 }}x", "{{ 2.0 }}x", "{{ 1e16 }}x"
SELECT is(noetl.eval_value(jsonb_build_object('tpl', jsonb_build_array(bin(j('1'), '/', j('3')), 'x')), '{}') #>> '{}',
          '0.3333333333333333x', 'EC-52: "{{ 1 / 3 }}x"');
SELECT is(noetl.eval_value(jsonb_build_object('tpl', jsonb_build_array(j('2.0'), 'x')), '{}') #>> '{}',
          '2.0x', 'EC-52: "{{ 2.0 }}x"');
SELECT is(noetl.eval_value(jsonb_build_object('tpl', jsonb_build_array(j('10000000000000000.0'), 'x')), '{}') #>> '{}',
          '1e+16x', 'EC-52: "{{ 1e16 }}x" (a float literal keeps its ''.'' in jsonb)');
SELECT is(txt(j('1000000000000000.0')), '1000000000000000.0', '1e15 prints positionally, like Python');
SELECT is(txt(j('1234567890123456.8')), '1234567890123456.8', 'a float just below 1e16 keeps 17 digits');
SELECT is(txt(j('0.0001')), '0.0001', '1e-4 is positional');
SELECT is(txt(j('0.00001')), '1e-05', '1e-5 has an exponent with two digits');
SELECT is(txt(j('0.00000015')), '1.5e-07', '1.5e-07');
SELECT is(txt(j('-10000000000000000.0')), '-1e+16', '-1e+16');
SELECT is(txt(j('123456789012345680.0')), '1.2345678901234568e+17', 'shortest round-trip digits');
SELECT is(txt(bin(j('0.1'), '+', j('0.2'))), '0.30000000000000004', '0.1 + 0.2');
SELECT is(txt(j('3')), '3', 'an integer prints as digits');
SELECT is(txt(j('null')), 'None', 'null prints None');
SELECT is(txt(j('true')) || txt(j('false')), 'TrueFalse', 'booleans print True / False');
SELECT is(txt(nm('missing')), '', 'undefined prints nothing');
SELECT is(txt(j('[1, "a", null, true, 1.5]')), '[1, ''a'', None, True, 1.5]', 'a list prints as Python repr');
SELECT is(txt(j('{"b": {"c": []}, "a": 1}')), '{''a'': 1, ''b'': {''c'': []}}', 'an object prints in jsonb key order');
SELECT is(txt(list_(j('"it''s"'), j('"q\""'), j('"a\\b"'))), $t$["it's", 'q"', 'a\\b']$t$,
          'repr picks the quote like Python and escapes backslashes');
SELECT is(txt(list_(j('"x\ny\tz"'), j('"a\u0001\u007f\u00ad"'), j($j$"both'\""$j$))),
          $t$['x\ny\tz', 'a\x01\x7f\xad', 'both\'"']$t$, 'control characters are escaped in repr');
SELECT is(txt(j('["中😀é"]')), '[''中😀é'']', 'printable non-ASCII is copied');
SELECT is(ev(cat(j('"n="'), j('5'))), '"n=5"', '~ converts to text');
SELECT is(ev(cat(nm('missing'), j('null'), j('1.0'))), '"None1.0"', '~: undefined contributes '''', null ''None''');
SELECT is(ev(flt('string', j('[1, {"a": false}]'))), $t$"[1, {'a': False}]"$t$, 'the string filter is text()');
SELECT is(noetl.eval_value('{"tpl": ["n=", {"k": "lit", "v": 5}]}', '{}'), '"n=5"', 'EC-10: "n={{ 5 }}" is the string n=5');
SELECT is(noetl.eval_value(jsonb_build_object('tpl', jsonb_build_array(nm('a'), nm('b'))), '{"a": 1, "b": 2}'), '"12"',
          '"{{ a }}{{ b }}" is a string even when it looks numeric');
SELECT is(noetl.jinja_text('2.0'), '2.0', 'jinja_text of a float');
SELECT is(noetl.jinja_text(NULL), '', 'jinja_text of undefined');
SELECT is(noetl.jinja_text('"x"'), 'x', 'jinja_text of a string is the string');

SELECT * FROM finish();
ROLLBACK;
