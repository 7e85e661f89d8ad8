-- requires: cluster
-- noetl.normalize_kind() trims, lower-cases and maps the kind aliases of §4.7; anything else is
-- kept lower-cased, and a missing kind is a playbook.
BEGIN;
SELECT plan(14);

SELECT is(noetl.normalize_kind('playbook'), 'playbook', 'playbook stays playbook');
SELECT is(noetl.normalize_kind('Playbook'), 'playbook', 'the YAML spelling Playbook is lower-cased (hazard 10.12)');
SELECT is(noetl.normalize_kind('  PLAYBOOKS '), 'playbook', 'playbooks -> playbook, after trimming');
SELECT is(noetl.normalize_kind('credentials'), 'credential', 'credentials -> credential');
SELECT is(noetl.normalize_kind('Secret'), 'credential', 'secret -> credential');
SELECT is(noetl.normalize_kind('secrets'), 'credential', 'secrets -> credential');
SELECT is(noetl.normalize_kind('ModelContextProtocol'), 'mcp', 'modelcontextprotocol -> mcp');
SELECT is(noetl.normalize_kind('agents'), 'agent', 'agents -> agent');
SELECT is(noetl.normalize_kind('Memory'), 'memory', 'a known kind is lower-cased');
SELECT is(noetl.normalize_kind(E'\tDataset\n'), 'dataset', 'an unknown kind is kept, trimmed and lower-cased');
SELECT is(noetl.normalize_kind(NULL), 'playbook', 'no kind at all is a playbook');
SELECT is(noetl.normalize_kind('   '), 'playbook', 'a blank kind is a playbook');
SELECT is((SELECT p.provolatile::text FROM pg_catalog.pg_proc AS p
           WHERE p.oid = 'noetl.normalize_kind(text)'::regprocedure), 'i', 'normalize_kind is IMMUTABLE');
SELECT is(ARRAY(SELECT name::text FROM noetl.resource ORDER BY name),
          ARRAY(SELECT DISTINCT noetl.normalize_kind(name) FROM noetl.resource ORDER BY 1),
          'every seeded resource name is already normalised');

SELECT * FROM finish();
ROLLBACK;
