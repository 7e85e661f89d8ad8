-- requires: cluster
-- catalog_register allocates consecutive versions per path and registers unknown kinds;
-- catalog_get resolves by id, by path+version and latest; catalog_list filters and orders.
BEGIN;
SELECT plan(14);

SELECT is((SELECT version FROM noetl.catalog_register('t/a', 'Playbook', 'x: 1', '{"x":1}', NULL, '{}', '{"steps":{}}', 1)),
          1, 'the first registration of a path is version 1');
SELECT is((SELECT version FROM noetl.catalog_register('t/a', 'playbooks', 'x: 2', '{"x":2}', NULL, '{}', '{"steps":{}}', 1)),
          2, 'a re-registration is the next version, even with an alias kind');
SELECT is((SELECT kind FROM noetl.catalog_register('t/b', 'Dataset', 'y', NULL, NULL, NULL, NULL, 7)),
          'dataset', 'an unknown kind is normalised');
SELECT ok(EXISTS (SELECT 1 FROM noetl.resource WHERE name = 'dataset'), 'an unknown kind is added to resource');
SELECT is((SELECT plan_format FROM noetl.catalog WHERE path = 't/b'), NULL, 'no plan means no plan format');
SELECT throws_ok($$SELECT noetl.catalog_register('  ', 'playbook', 'x', NULL, NULL, NULL, NULL, NULL)$$,
                 'NE422', NULL, 'a blank path is refused');

SELECT is((SELECT content FROM noetl.catalog_get(NULL, 't/a', NULL)), 'x: 2', 'latest version by path');
SELECT is((SELECT content FROM noetl.catalog_get(NULL, 't/a', 1)), 'x: 1', 'a given version by path');
SELECT is((SELECT path FROM noetl.catalog_get((SELECT catalog_id FROM noetl.catalog WHERE path = 't/b'), 't/a', 1)),
          't/b', 'catalog_id wins over path');
SELECT is((SELECT count(*)::int FROM noetl.catalog_get(NULL, 't/zzz', NULL)), 0, 'nothing matches: no row');

SELECT is((SELECT count(*)::int FROM noetl.catalog_list('PLAYBOOK', NULL)), 2, 'list by kind compares normalised kinds');
SELECT is((SELECT count(*)::int FROM noetl.catalog_list(NULL, 't/b')), 1, 'list by exact path');
SELECT lives_ok($$SELECT noetl.catalog_set_plan((SELECT catalog_id FROM noetl.catalog WHERE path = 't/b'), '{"p":1}', 2)$$,
                'set_plan rewrites the plan');
SELECT throws_ok($$SELECT noetl.catalog_set_plan(1, '{}', 1)$$, 'NE404', NULL, 'set_plan of an unknown id is NE404');

SELECT * FROM finish();
ROLLBACK;
