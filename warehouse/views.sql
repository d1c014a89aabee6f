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

-- Source health (#29): each source as of its latest run (from the source_runs of the last
-- 90 days before the latest run: the view's cost follows recent runs, not all history).
--   state: failing  its latest run could read nothing of it (failed_runs: runs in a row);
--          quiet    no new entry for 3x its usual interval and at least 2 days, or no entry
--                   dated in the 90 days although it has been read for 7 days or more;
--          new      too little history to know its usual interval (fewer than 8 entries
--                   dated in the 90 days, or under 7 days between the first and the latest);
--          healthy  otherwise.
--   usual_interval_s: its usual publishing interval in seconds, from its own entries' dates
--     (never later than newsmon first saw them): the gap between two entries that 90% of its
--     recent time was spent in gaps no longer than (a time-weighted 90th percentile, so that
--     nights, weekends and batch publishing count as usual). The gaps are counted when a run
--     stores its outcome (source_runs.entry_gaps, extractors/fetch/health.py with_gaps) and
--     summed here in buckets 10% wide, the longest gap of a bucket standing for it: within
--     10% of the exact percentile, without sorting every entry of every source.
--   silent_for: from the latest run that saw a new entry of it to its latest run.
--   in_latest_run: the latest run read it (false: no longer configured, or in another
--     deployment's sources file).
CREATE OR REPLACE VIEW source_health AS
WITH bounds AS (
    SELECT max(run_at) AS latest, max(run_at) - INTERVAL 90 DAY AS since FROM source_runs
),
recent AS (
    SELECT * FROM source_runs WHERE run_at >= (SELECT since FROM bounds)
),
runs_of AS (
    SELECT source, max(run_at) AS last_run_at, min(run_at) AS first_run_at,
           arg_max(status, run_at) AS last_status, arg_max(reason, run_at) AS last_problem,
           max(run_at) FILTER (WHERE status <> 'failed') AS last_read_at
    FROM recent
    GROUP BY source
),
streak AS (
    SELECT r.source, count(*) AS failed_runs
    FROM recent AS r JOIN runs_of AS o USING (source)
    WHERE r.status = 'failed' AND (o.last_read_at IS NULL OR r.run_at > o.last_read_at)
    GROUP BY r.source
),
-- the source's entries dated in the window: how many, since when
dated AS (
    SELECT source, count(*) AS n_entries, min(t) AS first_entry_at
    FROM (SELECT source, unnest(entry_times) AS t FROM recent)
    WHERE t >= (SELECT since FROM bounds)
    GROUP BY source
),
-- the gaps between its entries (counted when stored), in buckets 10% wide: the time spent in
-- each and its longest gap (a window over a few dozen buckets per source, no sort of entries)
buckets AS (
    SELECT source, floor(ln(gap_s + 1) / ln(1.1)) AS bucket, sum(gap_s) AS time_s,
           max(gap_s) AS longest_s
    FROM (SELECT source, unnest(entry_gaps) AS gap_s FROM recent)
    GROUP BY ALL
),
usual AS (
    SELECT source, min(longest_s) FILTER (WHERE up_to >= 0.9 * total) AS interval_s
    FROM (
        SELECT source, longest_s,
               sum(time_s) OVER (PARTITION BY source ORDER BY bucket) AS up_to,
               sum(time_s) OVER (PARTITION BY source) AS total
        FROM buckets
    )
    GROUP BY source
),
judged AS (
    SELECT o.source, o.last_run_at, o.first_run_at, o.last_status, o.last_problem,
           coalesce(k.failed_runs, 0) AS failed_runs, s.last_success_at, s.last_new_entry_at,
           coalesce(h.n_entries, 0) AS n_entries,
           CASE WHEN h.n_entries >= 8
                     AND epoch(o.last_run_at) - epoch(h.first_entry_at) >= 7 * 86400
                THEN u.interval_s END AS usual_interval_s,
           o.last_run_at - s.last_new_entry_at AS silent_for
    FROM runs_of AS o
    JOIN sources AS s ON s.name = o.source
    LEFT JOIN streak AS k USING (source)
    LEFT JOIN usual AS u USING (source)
    LEFT JOIN dated AS h USING (source)
)
SELECT source,
       CASE WHEN last_status = 'failed' THEN 'failing'
            WHEN usual_interval_s IS NOT NULL
                 AND epoch(silent_for) >= greatest(3 * usual_interval_s, 2 * 86400) THEN 'quiet'
            WHEN n_entries = 0 AND epoch(last_run_at) - epoch(first_run_at) >= 7 * 86400
                THEN 'quiet'
            WHEN usual_interval_s IS NOT NULL THEN 'healthy'
            ELSE 'new'
       END AS state,
       failed_runs, last_success_at, last_new_entry_at, silent_for, usual_interval_s,
       n_entries AS entries_dated_90d, last_run_at, last_status, last_problem,
       last_run_at = (SELECT latest FROM bounds) AS in_latest_run
FROM judged
ORDER BY CASE state WHEN 'failing' THEN 0 WHEN 'quiet' THEN 1 WHEN 'new' THEN 2 ELSE 3 END,
         source;
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
