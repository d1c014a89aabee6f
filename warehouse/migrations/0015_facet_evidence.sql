-- 0015: the evidence of the event facts (issue #26). Next to the main place and the event
-- date, each article and each event records how sure the place is and what the date rests
-- on, so an analyst can filter: `where_confidence` (0-1, the place ranker's probability for
-- an article; for an event, the share of its reports' vote, weighed by their confidence) and
-- `when_source`: 'dateline' (the dateline's day), 'text' (a date the text gives) or
-- 'published' (no evidence of another day: the publication day). Additive; older rows keep
-- NULL (unknown), which is not evidence for or against anything.

ALTER TABLE articles ADD COLUMN where_confidence DOUBLE;
ALTER TABLE articles ADD COLUMN when_source VARCHAR;

ALTER TABLE events ADD COLUMN where_confidence DOUBLE;
ALTER TABLE events ADD COLUMN when_source VARCHAR;
