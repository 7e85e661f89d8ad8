-- requires: shard
-- Without a noetl.shard_info row, noetl.snowflake_id() refuses to mint (an id without its
-- database's machine bits could collide with another shard's), with a clear error.
BEGIN;
SELECT plan(2);

DELETE FROM noetl.shard_info;

SELECT throws_ok('SELECT noetl.snowflake_id()', '55000',
                 'noetl.snowflake_id(): noetl.shard_info has no row in this database',
                 'snowflake_id raises 55000 when shard_info has no row');
SELECT throws_ok($$INSERT INTO noetl.outbox (execution_id, event_id, subject, payload, msg_id)
                   VALUES (1, 1, 'noetl.commands.shared.1', '{}', '1')$$, '55000', NULL,
                 'a column default that mints an id fails the insert instead of writing a bad id');

SELECT * FROM finish();
ROLLBACK;
