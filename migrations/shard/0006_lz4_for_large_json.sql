-- lz4 instead of pglz for the JSONB values that can be large and are written on the hot path.
-- Shard databases.
--
-- Every command.issued row stores its full render context (engine.md §4.8): the workload appears
-- in it three times (its keys, `workload`, `ctx`), so a loop over a 10,000-element workload
-- writes ~177 kB of JSON per command. Compressing that with pglz was 63% of the backend's CPU in
-- the completion pass of such a loop (perf), ~42 ms per event. lz4 compresses several times
-- faster (and decompresses faster) for a somewhat larger result. Only newly written values are
-- affected; existing ones keep pglz and stay readable. On a partitioned table the setting is
-- the default for partitions created later (CREATE TABLE ... PARTITION OF copies it) but does
-- not reach the existing ones, so those are altered one by one below.
ALTER TABLE noetl.event ALTER COLUMN context SET COMPRESSION lz4;
ALTER TABLE noetl.event ALTER COLUMN result SET COMPRESSION lz4;
ALTER TABLE noetl.execution ALTER COLUMN plan SET COMPRESSION lz4;
ALTER TABLE noetl.execution ALTER COLUMN workload SET COMPRESSION lz4;
ALTER TABLE noetl.command ALTER COLUMN result SET COMPRESSION lz4;
ALTER TABLE noetl.step_state ALTER COLUMN result SET COMPRESSION lz4;
ALTER TABLE noetl.loop_item ALTER COLUMN item SET COMPRESSION lz4;

DO $$
DECLARE
    v_part regclass;
    v_col  text;
BEGIN
    FOR v_part, v_col IN
        SELECT i.inhrelid::regclass, c.col
          FROM pg_catalog.pg_inherits AS i
          JOIN (VALUES ('noetl.event'::regclass, 'context'), ('noetl.event'::regclass, 'result'),
                       ('noetl.command'::regclass, 'result')) AS c(parent, col)
            ON i.inhparent = c.parent
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET COMPRESSION lz4', v_part, v_col);
    END LOOP;
END;
$$;
