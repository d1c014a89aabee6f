-- 0011: event records (issue #18). Each article and each event gets its main answers next
-- to the mention lists: `who` (main actors, best first, canonical name and type), the main
-- place geocoded (`where_*`: name, ISO country code, latitude, longitude, gazetteer id) and,
-- as before, `event_date` (the "when"). An event's record is agreed by vote of its articles
-- (extractors/events/records.py); `actor_keys` are the comparison keys of its actors' names
-- (extractors.content.facets.actor_key), so watchlists match spelling variants.

ALTER TABLE articles ADD COLUMN who STRUCT(name VARCHAR, type VARCHAR)[];
ALTER TABLE articles ADD COLUMN where_name VARCHAR;
ALTER TABLE articles ADD COLUMN where_country VARCHAR;
ALTER TABLE articles ADD COLUMN where_lat DOUBLE;
ALTER TABLE articles ADD COLUMN where_lon DOUBLE;
ALTER TABLE articles ADD COLUMN where_id VARCHAR;

ALTER TABLE events ADD COLUMN who STRUCT(name VARCHAR, type VARCHAR)[];
ALTER TABLE events ADD COLUMN where_name VARCHAR;
ALTER TABLE events ADD COLUMN where_country VARCHAR;
ALTER TABLE events ADD COLUMN where_lat DOUBLE;
ALTER TABLE events ADD COLUMN where_lon DOUBLE;
ALTER TABLE events ADD COLUMN where_id VARCHAR;
ALTER TABLE events ADD COLUMN actor_keys VARCHAR[];
