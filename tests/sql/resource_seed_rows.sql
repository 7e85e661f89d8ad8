-- requires: cluster
-- The cluster migration seeds noetl.resource with the known kinds of §2.1 / §4.7, with their
-- executable and catalog flags and a description each.
BEGIN;
SELECT plan(3);

SELECT results_eq(
    $$SELECT name::text, (meta ->> 'executable')::boolean, (meta ->> 'catalog')::boolean
      FROM noetl.resource ORDER BY name$$,
    $$VALUES ('agent', true, true), ('credential', false, true), ('mcp', false, true),
             ('memory', false, true), ('playbook', true, true)$$,
    'the five known kinds are seeded with their flags');
SELECT is((SELECT count(*)::integer FROM noetl.resource
           WHERE coalesce(meta ->> 'description', '') = ''), 0,
          'every seeded kind has a description');
SELECT throws_ok($$INSERT INTO noetl.resource (name, meta) VALUES ('Playbook2', '{}')$$,
                 '23514', NULL, 'a mixed-case kind cannot be stored (§4.7)');

SELECT * FROM finish();
ROLLBACK;
