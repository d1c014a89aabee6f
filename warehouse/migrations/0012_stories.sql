-- 0012: story threads, the level above events (extractors/events/stories.py). A story ties
-- events of one developing story together over weeks; each event names its story, and keeps
-- the weighted terms that stories compare events by.

CREATE TABLE stories (
    id VARCHAR PRIMARY KEY,
    title VARCHAR,
    first_seen TIMESTAMPTZ,
    last_seen TIMESTAMPTZ,
    n_events INTEGER,
    n_articles INTEGER,
    actors VARCHAR[],
    places VARCHAR[],
    updated_at TIMESTAMPTZ
);

ALTER TABLE events ADD COLUMN story_id VARCHAR;
ALTER TABLE events ADD COLUMN terms MAP(VARCHAR, DOUBLE);
