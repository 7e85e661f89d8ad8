-- requires: shard
-- Names, attributes and items (engine.md §3.4): missing names and attributes are undefined at any
-- depth, access on null or scalars is undefined, Python indexing for lists and strings, string keys
-- for objects, and attributes read keys only (deviation 1).
BEGIN;
\ir expr_nodes.psql
SELECT plan(22);

SELECT is(ev(nm('a'), '{"a": 5}'), '5', 'a name reads the context');
SELECT is(ev(nm('missing'), '{"a": 5}'), 'undefined', 'a missing name is undefined');
SELECT is(ev(nm('a'), '{"a": null}'), 'null', 'a name bound to null is null, not undefined');
SELECT is(ev(attr(nm('a'), 'b'), '{"a": {"b": [1, 2]}}'), '[1, 2]', 'o.a reads the key of an object');
SELECT is(ev(attr(attr(nm('missing'), 'flag'), 'x')), 'undefined', 'EC-01: missing.flag.x is undefined, not an error');
SELECT is(ev(attr(nm('n'), 'a'), '{"n": null}'), 'undefined', 'none.a is undefined');
SELECT is(ev(attr(nm('s'), 'upper'), '{"s": "abc"}'), 'undefined', 'no Python attribute of a string is visible');
SELECT is(ev(attr(nm('d'), 'items'), '{"d": {"items": 3}}'), '3', 'd.items reads the key items (deviation 1)');
SELECT is(ev(attr(nm('d'), 'items'), '{"d": {"a": 3}}'), 'undefined', 'd.items without that key is undefined, never a method');
SELECT is(ev(attr(nm('l'), 'a'), '{"l": [1]}'), 'undefined', 'an attribute of a list is undefined');
SELECT is(ev(item(nm('l'), j('0')), '{"l": [10, 20, 30]}'), '10', 'l[0]');
SELECT is(ev(item(nm('l'), j('-1')), '{"l": [10, 20, 30]}'), '30', 'l[-1] counts from the end');
SELECT is(ev(item(nm('l'), j('3')), '{"l": [10, 20, 30]}'), 'undefined', 'an index out of range is undefined');
SELECT is(ev(item(nm('l'), j('true')), '{"l": [10, 20, 30]}'), '20', 'a boolean index counts as 0/1');
SELECT is(ev(item(nm('l'), j('1.0')), '{"l": [10, 20, 30]}'), 'undefined', 'a float index is undefined');
SELECT is(ev(item(nm('s'), j('-1')), '{"s": "héllo"}'), '"o"', 'a string index gives one character');
SELECT is(ev(item(nm('s'), j('1')), '{"s": "héllo"}'), '"é"', 'string indexes count code points');
SELECT is(ev(item(nm('d'), j('"k"')), '{"d": {"k": 1}}'), '1', 'o["k"] reads an object key');
SELECT is(ev(item(nm('d'), j('0')), '{"d": {"0": 1}}'), 'undefined', '{"0": 1}[0] is undefined');
SELECT is(ev(item(item(nm('missing'), j('0')), j('"a"'))), 'undefined', 'items of undefined are undefined at any depth');
SELECT is(ev(item(nm('n'), j('0')), '{"n": 5}'), 'undefined', 'an item of a number is undefined');
SELECT is(ev(attr(item(nm('rows'), j('0')), 'id'), '{"rows": [{"id": "r1"}]}'), '"r1"', 'rows[0].id');

SELECT * FROM finish();
ROLLBACK;
