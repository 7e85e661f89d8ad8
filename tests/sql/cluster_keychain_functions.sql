-- requires: cluster
-- keychain cache keys per scope, the TTL rule, found/expired/not_found reads with the access
-- bump, delete, list and cleanup.
BEGIN;
SELECT plan(13);

SELECT is(noetl.keychain_cache_key('tok', 7, 'local', 9), 'tok:7:9', 'local with an execution');
SELECT is(noetl.keychain_cache_key('tok', 7, 'shared', 9), 'tok:7:shared:9', 'shared with an execution');
SELECT is(noetl.keychain_cache_key('tok', 7, 'local', NULL), 'tok:7:global', 'local without an execution is global');

CREATE TEMP TABLE cat AS SELECT catalog_id FROM noetl.catalog_register('k/p', 'playbook', 'x', NULL, NULL, NULL, NULL, NULL);
SELECT is((SELECT round(extract(epoch FROM expires_at - now()))::int FROM noetl.keychain_put(
            'tok', (SELECT catalog_id FROM cat), NULL, NULL, 'local', 5, NULL, 'env', NULL, NULL, NULL, NULL, NULL)),
          3600, 'local scope defaults to one hour');
SELECT is((SELECT round(extract(epoch FROM expires_at - now()))::int FROM noetl.keychain_put(
            'tok', (SELECT catalog_id FROM cat), NULL, NULL, 'global', NULL, NULL, 'env', NULL, NULL, 60, NULL, NULL)),
          60, 'ttl_seconds wins over the default');
SELECT throws_ok(format($$SELECT noetl.keychain_put('tok', %s, NULL, NULL, 'global', NULL, NULL, 'e', NULL, NULL, NULL, NULL, NULL)$$,
                        (SELECT catalog_id FROM cat) + 1), '23503', NULL, 'an unknown catalog id is a foreign-key violation');

SELECT is(noetl.keychain_get('nope') ->> 'status', 'not_found', 'missing key');
SELECT is(noetl.keychain_get('tok:' || (SELECT catalog_id FROM cat) || ':global') #>> '{row,access_count}', '1',
          'a found read bumps the access count');
UPDATE noetl.keychain SET expires_at = now() - interval '1 second', auto_renew = true;
SELECT is(noetl.keychain_get('tok:' || (SELECT catalog_id FROM cat) || ':global') ->> 'status', 'expired', 'expired entry');
SELECT is((SELECT access_count FROM noetl.keychain WHERE scope_type = 'global'), 1, 'an expired read does not bump');
SELECT is((SELECT count(*)::int FROM noetl.keychain_list((SELECT catalog_id FROM cat))), 2, 'list by catalog id');
SELECT is(noetl.keychain_cleanup_expired(), 0, 'auto-renew rows survive cleanup');
SELECT is(noetl.keychain_delete('tok:' || (SELECT catalog_id FROM cat) || ':global'), true, 'delete an entry');

SELECT * FROM finish();
ROLLBACK;
