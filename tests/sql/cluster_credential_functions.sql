-- requires: cluster
-- credential_upsert keeps id and created_at on update; credential_get tries digits as an id,
-- then as a name; list filters by type and substring; delete returns the id or NULL.
BEGIN;
SELECT plan(10);

CREATE TEMP TABLE first AS SELECT * FROM noetl.credential_upsert(' pg ', 'postgres', '{"v":1}', NULL, ARRAY['dev'], 'Local PG');
SELECT is((SELECT name FROM first), 'pg', 'the name is trimmed');
CREATE TEMP TABLE second AS SELECT * FROM noetl.credential_upsert('pg', 'postgres', '{"v":2}', '{"m":1}', NULL, 'Other');
SELECT is((SELECT id FROM second), (SELECT id FROM first), 'an update keeps the id');
SELECT is((SELECT data_encrypted FROM second), '{"v":2}', 'an update replaces the data');
SELECT is((SELECT tags FROM second), '{}'::text[], 'missing tags are stored as an empty array');

SELECT is((SELECT name FROM noetl.credential_get((SELECT id FROM first)::text)), 'pg', 'digits find by id');
SELECT noetl.credential_upsert('12345', 'generic', '{}', NULL, NULL, NULL);
SELECT is((SELECT name FROM noetl.credential_get('12345')), '12345', 'digits that are no id find by name');
SELECT is((SELECT count(*)::int FROM noetl.credential_list(NULL, 'OTH')), 1, 'q matches the description case-insensitively');
SELECT is((SELECT count(*)::int FROM noetl.credential_list('postgres', NULL)), 1, 'type filter');
SELECT is(noetl.credential_delete('pg'), (SELECT id FROM first), 'delete returns the id');
SELECT is(noetl.credential_delete('pg'), NULL, 'deleting again returns NULL');

SELECT * FROM finish();
ROLLBACK;
