-- requires: shard
-- The converting filters of engine.md §3.8: int (EC-03, EC-04), float, bool, round, abs, tojson.
BEGIN;
\ir expr_nodes.psql
SELECT plan(40);

SELECT is(ev(flt('int', j('"3.7"'))), '3', 'EC-03: ''3.7'' | int = 3');
SELECT is(ev(flt('int', j('"1e3"'))), '1000', 'EC-03: ''1e3'' | int = 1000');
SELECT is(ev(flt('int', j('"abc"'))), '0', 'EC-03: ''abc'' | int = 0');
SELECT is(ev(flt('int', j('null'))), '0', 'EC-03: none | int = 0');
SELECT is(err(flt('int', nm('x'))), 'filter ''int'' on undefined', 'EC-04: x | int with x undefined is an evaluation error');
SELECT is(ev(flt('int', flt('default', nm('x'), j('0')))), '0', 'EC-04: x | default(0) | int = 0');
SELECT is(ev(flt('int', j('" 42 "'))), '42', 'surrounding whitespace is allowed');
SELECT is(ev(flt('int', j('"1_000"'))), '1000', 'single underscores between digits');
SELECT is(ev(flt('int', j('"-.5e1"'))), '-5', 'float syntax, truncated');
SELECT is(ev(flt('int', j('"0x1A"'))) || ev(flt('int', j('"12abc"'))) || ev(flt('int', j('""'))), '000', '''0x1A'', ''12abc'', '''' give the default');
SELECT is(ev(flt('int', j('"inf"'))) || ev(flt('int', j('"nan"'))), '00', '''inf'' and ''nan'' give the default');
SELECT is(ev(flt('int', j('-3.9'))), '-3', 'a float truncates toward zero');
SELECT is(ev(flt('int', j('true'))), '1', 'true | int = 1');
SELECT is(ev(flt('int', j('[1]'), j('7'))), '7', 'a list gives the given default');
SELECT is(ev(flt('int', j('"x"'), j('"d"'))), '"d"', 'the default is returned as given');
SELECT is(ev(fkw('int', j('"x"'), jsonb_build_object('default', lit('-1')))), '-1', 'int(default=-1) by keyword');
SELECT is(ev(flt('int', j('"١٢"'))), '0', 'only ASCII digits (deviation 10)');
SELECT is(ev(flt('float', j('"1.5"'))), '1.5', '''1.5'' | float');
SELECT is(ev(flt('float', j('1'))), '1.0', '1 | float = 1.0');
SELECT is(ev(flt('float', j('true'))), '1.0', 'true | float = 1.0');
SELECT is(ev(flt('float', j('"abc"'))), '0.0', 'not a float: the default 0.0');
SELECT is(ev(flt('float', j('null'), j('2'))), '2', 'none | float(2) = 2');
SELECT is(ev(flt('float', j('" 1_0.5e1 "'))), '105.0', 'float syntax with underscores and exponent');
SELECT ok(fails(flt('float', j('"inf"'))), 'a non-finite float is an error (deviation 5)');
SELECT ok(fails(flt('float', nm('x'))), 'undefined | float is an error');
SELECT is(ev(flt('bool', j('"False"'))) || ev(flt('bool', j('"yes"'))) || ev(flt('bool', nm('x'))), 'falsetruefalse', 'bool is the guard rule');
SELECT is(ev(flt('round', j('2.5'))) || ' ' || ev(flt('round', j('3.5'))) || ' ' || ev(flt('round', j('-2.5'))), '2.0 4.0 -2.0',
          'round: half to even, floats stay floats');
SELECT is(ev(flt('round', j('2.675'), j('2'))), '2.67', '2.675 | round(2) = 2.67 (the exact binary value)');
SELECT is(ev(flt('round', j('25'), j('-1'))) || ' ' || ev(flt('round', j('35'), j('-1'))), '20 40', 'an integer with a negative precision');
SELECT is(ev(flt('round', j('7'), j('2'))), '7', 'an integer stays an integer with common');
SELECT is(ev(flt('round', j('1234.5678'), j('2'), j('"ceil"'))), '1234.57', 'round(2, ''ceil'')');
SELECT is(ev(flt('round', j('3'), j('0'), j('"floor"'))), '3.0', '3 | round(0, ''floor'') = 3.0');
SELECT is(ev(fkw('round', j('1234.5678'), jsonb_build_object('precision', lit('-2'), 'method', lit('"floor"')))), '1200.0',
          'round with keyword arguments');
SELECT ok(fails(flt('round', j('"1.5"'))), 'round of a string is an error');
SELECT ok(fails(flt('round', j('1.5'), j('0'), j('"up"'))), 'an unknown round method is an error');
SELECT is(ev(flt('abs', j('-2.5'))) || ' ' || ev(flt('abs', j('true'))) || ' ' || ev(flt('abs', j('-3'))), '2.5 1 3', 'abs');
SELECT ok(fails(flt('abs', j('null'))), 'abs of null is an error');
SELECT is(ev(flt('tojson', j('{"b": 1, "a": "é<"}'))), '"{\"a\": \"\\u00e9\\u003c\", \"b\": 1}"',
          'EC-51: tojson sorts keys, escapes non-ASCII and <');
SELECT is(ev(flt('tojson', nm('x'))), '"null"', 'tojson of undefined is ''null'' (deviation 9)');
SELECT is(ev(flt('tojson', j('[1.5, 10000000000000000.0, null, "😀", "a''&b>"]'))),
          '"[1.5, 1e+16, null, \"\\ud83d\\ude00\", \"a\\u0027\\u0026b\\u003e\"]"', 'tojson: floats in repr, surrogate pairs, HTML escapes');

SELECT * FROM finish();
ROLLBACK;
