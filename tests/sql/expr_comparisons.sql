-- requires: shard
-- Equality, ordering, chains and membership (engine.md §3.6; EC-08, EC-09).
BEGIN;
\ir expr_nodes.psql
SELECT plan(30);

SELECT is(ev(cmp(j('1'), '==', j('true'))), 'true', 'EC-08: 1 == true');
SELECT is(ev(cmp(j('"1"'), '==', j('1'))), 'false', 'EC-08: ''1'' == 1 is false');
SELECT is(ev(cmp(j('1'), '==', j('1.0'))), 'true', 'EC-08: 1 == 1.0');
SELECT is(err(cmp(j('"a"'), '<', j('1'))), '''<'' not supported between string and integer', 'EC-08: ''a'' < 1 is an evaluation error');
SELECT is(ev(cmp(nm('missing'), '==', nm('other'))), 'true', 'undefined equals undefined');
SELECT is(ev(cmp(nm('missing'), '==', j('null'))), 'false', 'undefined does not equal null');
SELECT is(ev(cmp(nm('missing'), '!=', j('"x"'))), 'true', 'undefined != a string');
SELECT is(ev(cmp(j('[1, {"a": true}]'), '==', j('[1.0, {"a": 1}]'))), 'true', 'containers compare member-wise, booleans as 0/1');
SELECT is(ev(cmp(j('[1, 2]'), '==', j('[1]'))), 'false', 'lists of different lengths are unequal');
SELECT is(ev(cmp(j('{"a": 1}'), '==', j('{"a": 1, "b": 2}'))), 'false', 'objects with different keys are unequal');
SELECT is(ev(cmp(j('"a"'), '<', j('"B"'))), 'false', '''a'' < ''B'' is false (code points)');
SELECT is(ev(cmp(j('"é"'), '>', j('"z"'))), 'true', 'non-ASCII orders by code point');
SELECT is(ev(cmp(j('true'), '>', j('0.5'))), 'true', 'booleans order as 0/1');
SELECT is(ev(cmp(j('[1, 2]'), '<', j('[1, 3]'))), 'true', 'lists order lexicographically');
SELECT is(ev(cmp(j('[1]'), '<', j('[1, 0]'))), 'true', 'a proper prefix is smaller');
SELECT ok(fails(cmp(j('[1, "a"]'), '<', j('[1, 2]'))), 'the first differing members must be comparable');
SELECT ok(fails(cmp(j('null'), '<', j('1'))), 'null < 1 is an error');
SELECT ok(fails(cmp(j('{}'), '<=', j('{}'))), 'objects do not order');
SELECT ok(fails(cmp(nm('x'), '>=', j('1'))), 'undefined >= 1 is an error');
SELECT is(ev(cmp2(j('1'), '<', j('2'), '<', j('3'))), 'true', 'a chain 1 < 2 < 3');
SELECT is(ev(cmp2(j('3'), '<', j('2'), '<', j('"x"'))), 'false', 'a chain stops at the first false (2 < ''x'' is not compared)');
SELECT is(ev(cmp(j('"a"'), 'in', j('"abc"'))), 'true', 'EC-09: ''a'' in ''abc''');
SELECT ok(fails(cmp(j('1'), 'in', j('"abc"'))), 'EC-09: 1 in ''abc'' is an error');
SELECT is(ev(cmp(j('"k"'), 'in', j('{"k": 1}'))), 'true', 'EC-09: ''k'' in {''k'': 1}');
SELECT is(ev(cmp(j('1'), 'in', nm('x'))), 'false', 'EC-09: 1 in x (undefined) is false');
SELECT is(ev(cmp(j('""'), 'in', j('""'))), 'true', ''''' is in every string');
SELECT is(ev(cmp(j('true'), 'in', j('[0, 1]'))), 'true', 'list membership uses == (true == 1)');
SELECT is(ev(cmp(j('1'), 'not in', j('{"1": 0}'))), 'true', 'a number is never a key of an object');
SELECT ok(fails(cmp(j('[1]'), 'in', j('{"a": 1}'))), 'a list is not hashable: error');
SELECT ok(fails(cmp(j('1'), 'in', j('null'))), 'membership in null is an error');

SELECT * FROM finish();
ROLLBACK;
