-- requires: shard
-- The tests of engine.md §3.9 and their negation (`x is not t` compiles to not(test)).
BEGIN;
\ir expr_nodes.psql
SELECT plan(16);

SELECT is(ev(tst('defined', j('null'))), 'true', 'null is defined');
SELECT is(ev(tst('defined', nm('x'))), 'false', 'a missing name is not defined');
SELECT is(ev(tst('undefined', attr(nm('x'), 'y'))), 'true', 'x.y is undefined');
SELECT is(ev(tst('none', j('null'))), 'true', 'null is none');
SELECT is(ev(tst('none', nm('x'))), 'false', 'undefined is not none');
SELECT is(ev(tst('number', j('true'))), 'true', 'a boolean is a number');
SELECT is(ev(tst('number', j('1.5'))) || ev(tst('number', j('"1"'))), 'truefalse', 'a float is a number, a numeric string is not');
SELECT is(ev(tst('number', nm('x'))), 'false', 'undefined is not a number');
SELECT is(ev(tst('string', j('""'))) || ev(tst('string', nm('x'))), 'truefalse', 'string');
SELECT is(ev(tst('mapping', j('{}'))) || ev(tst('mapping', j('[]'))), 'truefalse', 'mapping');
SELECT is(ev(tst('sequence', j('"s"'))) || ev(tst('sequence', j('[]'))) || ev(tst('sequence', j('{}'))), 'truetruetrue',
          'strings, lists and objects are sequences');
SELECT is(ev(tst('sequence', nm('x'))), 'true', 'undefined is a sequence (Jinja2''s definition)');
SELECT is(ev(tst('sequence', j('null'))) || ev(tst('sequence', j('1'))), 'falsefalse', 'null and numbers are not sequences');
SELECT is(ev(not_(tst('defined', nm('x')))), 'true', 'x is not defined');
SELECT is(ev(not_(tst('none', j('0')))), 'true', '0 is not none');
SELECT ok(fails(tst('odd', j('1'))), 'a test outside the subset raises NT001');

SELECT * FROM finish();
ROLLBACK;
