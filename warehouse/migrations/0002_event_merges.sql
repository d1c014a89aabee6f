-- 0002: remember which events were merged into which, so links to an old event id can be
-- followed after re-clustering folds it into another.

CREATE TABLE event_merges (
    from_event_id VARCHAR,
    into_event_id VARCHAR,
    merged_at TIMESTAMPTZ,
    run_id VARCHAR,
    PRIMARY KEY (from_event_id, into_event_id, run_id)
);
