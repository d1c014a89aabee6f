-- Saved views, recreated (CREATE OR REPLACE) by the first writer open of each process and by
-- every migration, so editing this file is enough to change them. Examples: docs/warehouse.md.

-- The day an article is "about" for coverage counts: when it was published, else fetched.
CREATE OR REPLACE VIEW article_days AS
SELECT a.*, CAST(coalesce(a.published_at, a.fetched_at) AS DATE) AS day
FROM articles AS a;

-- Events with an article on the latest day that has articles (today if there are none),
-- most widely reported first.
CREATE OR REPLACE VIEW top_events_today AS
WITH latest AS (
    SELECT coalesce(max(day), current_date) AS day FROM article_days
)
SELECT e.id, e.headline, e.event_date, e.n_sources, e.n_articles, e.n_copies,
       e.first_seen, e.last_seen, e.actors, e.places, latest.day AS day
FROM events AS e, latest
WHERE e.id IN (
    SELECT ea.event_id
    FROM event_articles AS ea JOIN article_days AS a ON a.id = ea.article_id
    WHERE a.day = latest.day
)
ORDER BY e.n_sources DESC, e.n_articles DESC, e.last_seen DESC NULLS LAST, e.id;

-- Every article of every event, in the order it was published.
CREATE OR REPLACE VIEW event_timeline AS
SELECT ea.event_id, a.published_at, a.source, a.title, a.url, a.id AS article_id,
       ea.score, d.duplicate_of IS NOT NULL AS is_copy
FROM event_articles AS ea
JOIN articles AS a ON a.id = ea.article_id
LEFT JOIN duplicates AS d ON d.article_id = a.id
ORDER BY ea.event_id, a.published_at NULLS LAST, a.source, a.id;

-- Articles, copies and events per outlet per day.
CREATE OR REPLACE VIEW coverage_per_source_day AS
SELECT a.source, a.day,
       count(*) AS n_articles,
       count(d.article_id) AS n_copies,
       count(DISTINCT ea.event_id) AS n_events
FROM article_days AS a
LEFT JOIN duplicates AS d ON d.article_id = a.id
LEFT JOIN event_articles AS ea ON ea.article_id = a.id
GROUP BY a.source, a.day
ORDER BY a.day DESC, a.source;

-- What went wrong, per outlet: fetch errors and extraction failures/skips, by kind.
CREATE OR REPLACE VIEW failures_per_source AS
SELECT source, 'fetch' AS stage,
       coalesce(error_class, 'HTTP ' || status_code) AS kind,
       count(*) AS n, max(fetched_at) AS last_at, any_value(url) AS example_url
FROM fetch_log
WHERE error_class IS NOT NULL OR status_code >= 400
GROUP BY ALL
UNION ALL
SELECT source, 'extract' AS stage,
       status || coalesce(': ' || reason, '') AS kind,
       count(*) AS n, max(logged_at) AS last_at, any_value(url) AS example_url
FROM extraction_log
WHERE status <> 'extracted'
GROUP BY ALL
ORDER BY n DESC, source, stage, kind;

-- Articles in no event and not known as a copy: what the next clustering run should look at.
CREATE OR REPLACE VIEW unclustered_articles AS
SELECT a.id, a.source, a.published_at, a.fetched_at, a.title, a.url
FROM articles AS a
WHERE a.id NOT IN (SELECT article_id FROM event_articles)
  AND a.id NOT IN (SELECT article_id FROM duplicates)
ORDER BY a.fetched_at DESC NULLS LAST, a.id;

-- The coverage ledger: per outlet and day (the UTC day newsmon first saw the entry), how many
-- entries its feeds, sitemaps and URL list offered and what became of them, with the
-- overflow warnings of that day. Reasons are counted in maps, e.g. {'HTTP 404': 2}.
CREATE OR REPLACE VIEW coverage_ledger AS
WITH by_day AS (
    SELECT source, CAST(first_seen_at AS DATE) AS day,
           count(*) AS seen,
           count(*) FILTER (WHERE outcome = 'stored') AS stored,
           count(*) FILTER (WHERE outcome = 'failed') AS failed,
           count(*) FILTER (WHERE outcome = 'skipped') AS skipped,
           count(*) FILTER (WHERE outcome = 'pending' AND reason LIKE 'retry: %')
               AS pending_retry,
           count(*) FILTER (WHERE outcome = 'pending' AND reason NOT LIKE 'retry: %')
               AS not_fetched,
           histogram(reason) FILTER (WHERE outcome = 'failed') AS failed_by_reason,
           histogram(reason) FILTER (WHERE outcome = 'skipped') AS skipped_by_reason,
           histogram(reason) FILTER (WHERE outcome = 'pending') AS pending_by_reason
    FROM entries
    GROUP BY ALL
),
warned AS (
    SELECT source, CAST(read_at AS DATE) AS day, count(*) AS overflow_warnings
    FROM overflows
    GROUP BY ALL
)
SELECT coalesce(b.source, w.source) AS source, coalesce(b.day, w.day) AS day,
       coalesce(b.seen, 0) AS seen, coalesce(b.stored, 0) AS stored,
       coalesce(b.failed, 0) AS failed, coalesce(b.skipped, 0) AS skipped,
       coalesce(b.pending_retry, 0) AS pending_retry, coalesce(b.not_fetched, 0) AS not_fetched,
       coalesce(w.overflow_warnings, 0) AS overflow_warnings,
       b.failed_by_reason, b.skipped_by_reason, b.pending_by_reason
FROM by_day AS b
FULL JOIN warned AS w ON w.source = b.source AND w.day = b.day
ORDER BY day DESC, source;

-- Why two articles are, or are not, one event (#27): every scored pair with both titles,
-- languages and current events, and the evidence as JSON (names, places, dates, numbers,
-- features). Example: docs/warehouse.md.
CREATE OR REPLACE VIEW pair_evidence AS
SELECT l.article_id, a.language, a.source, a.title, ea.event_id,
       l.other_id, o.language AS other_language, o.source AS other_source,
       o.title AS other_title, eo.event_id AS other_event_id,
       l.same_event, l.score, l.threshold, l.scorer, CAST(l.evidence AS JSON) AS evidence,
       l.run_id
FROM event_links AS l
JOIN articles AS a ON a.id = l.article_id
JOIN articles AS o ON o.id = l.other_id
LEFT JOIN event_articles AS ea ON ea.article_id = l.article_id
LEFT JOIN event_articles AS eo ON eo.article_id = l.other_id;
