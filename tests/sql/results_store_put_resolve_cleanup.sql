-- requires: shard
-- data-model.md §9.1 result_put / result_resolve / cleanup_*: a ref names its execution, name and
-- id; bytes and sha256 from the caller win, else jsonb text; resolve returns the data and bumps
-- the counters; expired and unknown refs are NE404; cleanup deletes refs with their blobs.
BEGIN;
SELECT plan(13);

CREATE TEMP TABLE r AS
SELECT noetl.result_put(7, 'fetch', '{"rows": [1, 2, 3]}', 'execution', 'fetch', NULL, '{"correlation": {"k": 1}}') AS a,
       noetl.result_put(7, 'keep', '"text"', 'permanent', NULL, NULL, '{"bytes": 6, "sha256": "abc"}') AS b,
       noetl.result_put(7, 'short', 'null', 'step', NULL, 0, NULL) AS c;

SELECT matches(a ->> 'ref', '^noetl://execution/7/result/fetch/[0-9]+$', 'ref format') FROM r;
SELECT is(jsonb_build_object('store', a -> 'store', 'scope', a -> 'scope', 'exp', a -> 'expires_at', 'bytes', a -> 'bytes'),
          jsonb_build_object('store', 'db', 'scope', 'execution', 'exp', null, 'bytes', octet_length('{"rows": [1, 2, 3]}')),
          'put answer') FROM r;
SELECT is(a ->> 'sha256', encode(sha256(convert_to('{"rows": [1, 2, 3]}', 'UTF8')), 'hex'), 'sha256 of the jsonb text') FROM r;
SELECT is((b ->> 'bytes') || ' ' || (b ->> 'sha256'), '6 abc', 'caller-computed size and hash win') FROM r;
SELECT is((SELECT correlation FROM noetl.result_ref WHERE ref = r.a ->> 'ref'), '{"k": 1}'::jsonb, 'correlation column') FROM r;
SELECT is(noetl.result_resolve(a ->> 'ref'), '{"rows": [1, 2, 3]}'::jsonb, 'resolve returns the data') FROM r;
SELECT is(noetl.result_resolve(b ->> 'ref'), '"text"'::jsonb, 'a scalar comes back as put') FROM r;
SELECT is((SELECT access_count FROM noetl.result_ref WHERE ref = r.a ->> 'ref'), 1, 'resolve bumps') FROM r;
SELECT throws_ok(format('SELECT noetl.result_resolve(%L)', c ->> 'ref'), 'NE404', NULL, 'expired is not found') FROM r;
SELECT throws_ok($$SELECT noetl.result_resolve('noetl://execution/7/result/x/1')$$, 'NE404', NULL, 'unknown');
SELECT throws_ok($$SELECT noetl.result_put(7, 'a/b', '1', 'execution', NULL, NULL, NULL)$$, 'NE422', NULL, 'name with a slash');
SELECT is(noetl.cleanup_expired_result_refs() || ' ' || noetl.cleanup_execution_result_refs(7), '1 1',
          'cleanup: the expired ref, then the execution-bound one');
SELECT is((SELECT array_agg(name) FROM noetl.result_ref WHERE execution_id = 7) || (SELECT count(*) FROM noetl.result_blob)::text,
          ARRAY['keep', '1'], 'the permanent ref and its blob stay; the others went with their blobs');

SELECT * FROM finish();
ROLLBACK;
