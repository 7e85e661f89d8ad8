-- requires: shard
-- default (EC-05), length (EC-06), first/last in jsonb key order (EC-51), join, replace, list,
-- keys, values and the text filters lower/upper/trim (engine.md §3.8).
BEGIN;
\ir expr_nodes.psql
SELECT plan(36);

SELECT is(ev(flt('default', j('null'), j('"d"'))), 'null', 'EC-05: none | default(''d'') is null');
SELECT is(ev(flt('default', nm('x'), j('"d"'))), '"d"', 'EC-05: x | default(''d'') is ''d''');
SELECT is(ev(flt('default', j('null'), j('"d"'), j('true'))), '"d"', 'EC-05: none | default(''d'', true) is ''d''');
SELECT is(ev(flt('default', j('""'), j('"d"'))), '""', ''''' | default(''d'') is ''''');
SELECT is(ev(flt('default', nm('x'))), '""', 'x | default is ''''');
SELECT is(ev(flt('default', attr(attr(nm('x'), 'y'), 'z'), j('1'))), '1', 'x.y.z | default(1) is 1');
SELECT is(ev(flt('default', nm('x'), nm('y'))), 'undefined', 'a default that is itself undefined stays undefined');
SELECT is(ev(fkw('default', j('0'), jsonb_build_object('default_value', lit('5'), 'boolean', lit('true')))), '5',
          'default with keyword arguments');
SELECT ok(fails(flt('default', j('1'), bin(j('1'), '/', j('0')))), 'arguments are evaluated even when unused');
SELECT is(ev(flt('length', j('{"a": 1, "b": 2}'))), '2', 'EC-06: an object''s length is its number of keys');
SELECT is(ev(flt('length', j('"héllo"'))), '5', 'EC-06: length counts code points');
SELECT is(ev(flt('length', nm('x'))), '0', 'EC-06: undefined has length 0');
SELECT ok(fails(flt('length', j('5'))), 'a number has no length');
SELECT is(ev(flt('first', dict_('{b,a}', ARRAY[j('1'), j('2')]))), '"a"', 'EC-51: {''b'': 1, ''a'': 2} | first is ''a'' (jsonb order)');
SELECT is(ev(flt('last', j('{"b": 1, "a": 2, "ccc": 3}'))), '"ccc"', 'last key in jsonb order');
SELECT is(ev(flt('first', j('"abc"'))) || ev(flt('last', j('[1, 2]'))), '"a"2', 'first of a string, last of a list');
SELECT is(ev(flt('first', j('[]'))) || ev(flt('last', j('""'))) || ev(flt('first', nm('x'))), 'undefinedundefinedundefined',
          'first/last of an empty value or of undefined is undefined');
SELECT ok(fails(flt('first', j('null'))), 'first of null is an error');
SELECT is(ev(flt('join', j('[1, null, true, "a"]'), j('","'))), '"1,None,True,a"', 'join converts items to text');
SELECT is(ev(flt('join', j('"abc"'), j('"-"'))), '"a-b-c"', 'join of a string joins its characters');
SELECT is(ev(flt('join', j('{"bb": 1, "a": 2}'))), '"abb"', 'join of an object joins its keys');
SELECT is(ev(flt('join', j('[[1, 2], {"a": 1}]'), j('";"'))), $t$"[1, 2];{'a': 1}"$t$, 'nested containers join in repr form');
SELECT is(ev(flt('join', nm('x'))), '""', 'join of undefined is ''''');
SELECT is(ev(flt('replace', j('"abc"'), j('""'), j('"-"'))), '"-a-b-c-"', 'replace of '''' inserts before every character and at the end');
SELECT is(ev(flt('replace', j('"abc"'), j('""'), j('"-"'), j('2'))), '"-a-bc"', '... at most count times');
SELECT is(ev(flt('replace', j('"aaaa"'), j('"a"'), j('"b"'), j('2'))), '"bbaa"', 'replace with a count');
SELECT is(ev(flt('replace', j('null'), j('"o"'), j('"0"'))), '"N0ne"', 'none | replace(''o'', ''0'') is ''N0ne''');
SELECT is(ev(flt('list', j('"ab"'))) || ev(flt('list', j('{"b": 1, "a": 2}'))) || ev(flt('list', nm('x'))), '["a", "b"]["a", "b"][]',
          'list of a string, an object, undefined');
SELECT is(ev(flt('keys', j('{"b": 1, "a": 2}'))) || ev(flt('values', j('{"b": 1, "a": [2]}'))), '["a", "b"][[2], 1]',
          'keys and values in jsonb key order');
SELECT is(ev(flt('keys', nm('x'))), '[]', 'keys of undefined is []');
SELECT ok(fails(flt('values', j('[1]'))), 'values of a list is an error');
SELECT is(ev(flt('lower', j('null'))) || ev(flt('upper', j('[1, "a"]'))), $t$"none""[1, 'A']"$t$, 'lower/upper work on text()');
SELECT is(ev(flt('lower', j('"ÉCOLE"'))), '"école"', 'non-ASCII case mapping follows the database');
SELECT is(ev(flt('trim', j('"\t hi \u3000"'))), '"hi"', 'trim removes Unicode whitespace');
SELECT is(ev(flt('trim', j('"xxhixx"'), j('"x"'))), '"hi"', 'trim(chars)');
SELECT is(ev(flt('length', flt('list', j('"héllo"')))), '5', 'filters chain');

SELECT * FROM finish();
ROLLBACK;
