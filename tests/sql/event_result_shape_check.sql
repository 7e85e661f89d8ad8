-- requires: shard
-- chk_event_result_shape (§2.8.3): event.result is NULL, or an object with a string status and
-- at most the other keys reference and context, each of them an object.
BEGIN;
SELECT plan(14);

CREATE TEMP TABLE shape_case (n serial, result jsonb, valid boolean, why text) ON COMMIT DROP;
INSERT INTO shape_case (result, valid, why) VALUES
    (NULL, true, 'a NULL result'),
    ('{"status": "COMPLETED"}', true, 'status alone'),
    ('{"status": "COMPLETED", "context": {"rows": 3}}', true, 'status and context object'),
    ('{"status": "COMPLETED", "reference": {"store_tier": "gcs", "logical_uri": "gs://b/k"}}', true,
     'status and reference object'),
    ('{"status": "COMPLETED", "reference": {}, "context": {}}', true, 'status, reference and context'),
    ('{"context": {}}', false, 'no status'),
    ('{"status": 200}', false, 'a non-string status'),
    ('{"status": null}', false, 'a JSON null status'),
    ('{"status": "COMPLETED", "data": {}}', false, 'an extra key'),
    ('{"status": "COMPLETED", "context": [1, 2]}', false, 'a context that is not an object'),
    ('{"status": "COMPLETED", "context": "text"}', false, 'a context that is a string'),
    ('{"status": "COMPLETED", "reference": "gs://b/k"}', false, 'a reference that is not an object'),
    ('["COMPLETED"]', false, 'an array'),
    ('"COMPLETED"', false, 'a scalar');

SELECT CASE WHEN valid THEN
           lives_ok(format($$INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status, result)
                             VALUES (1, 1, %s, 'call.done', 'COMPLETED', %L)$$, n, result),
                    format('accepted: %s', why))
       ELSE
           throws_ok(format($$INSERT INTO noetl.event (execution_id, catalog_id, event_id, event_type, status, result)
                              VALUES (1, 1, %s, 'call.done', 'COMPLETED', %L)$$, n, result),
                     '23514',
                     'new row for relation "event_pre_2026" violates check constraint "chk_event_result_shape"',
                     format('rejected by chk_event_result_shape: %s', why))
       END
FROM shape_case ORDER BY n;

SELECT * FROM finish();
ROLLBACK;
