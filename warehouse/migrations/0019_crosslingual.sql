-- 0019: events across languages (issue #27). Each event lists the languages its articles are
-- written in, most used first; each scored pair of articles of a clustering window keeps what
-- matched (names, places, dates, figures, the scorer's features, as JSON), so an analyst can
-- ask why two articles are, or are not, one event (the `pair_evidence` view).

ALTER TABLE events ADD COLUMN languages VARCHAR[];

CREATE TABLE event_links (
    article_id VARCHAR,
    other_id VARCHAR,
    same_event BOOLEAN,
    score DOUBLE,
    threshold DOUBLE,
    scorer VARCHAR,
    evidence VARCHAR,
    run_id VARCHAR,
    PRIMARY KEY (article_id, other_id)
);
