"""Every SQL statement of the daily digest and the watchlists, as named constants.

Values are always bound (`$name`), never pasted in. A "day" is the UTC date an article was
published, else fetched: the `article_days` view (views.sql), the same day `top_events_today`
uses. Connections from warehouse.db run with TimeZone = 'UTC', so `hour()` is a UTC hour.
"""

from __future__ import annotations

# --- digest -----------------------------------------------------------------------------

LATEST_DAY = "SELECT max(day) FROM article_days"

# Events with at least one article on $day, most widely reported first.
DAY_EVENTS = """
SELECT e.id, e.headline, e.event_date, e.places, e.actors,
       e.first_seen, e.last_seen, e.n_sources, e.n_articles
FROM events AS e
WHERE e.id IN (
    SELECT ea.event_id
    FROM event_articles AS ea JOIN article_days AS a ON a.id = ea.article_id
    WHERE a.day = $day
)
ORDER BY e.n_sources DESC NULLS LAST, e.n_articles DESC NULLS LAST,
         e.last_seen DESC NULLS LAST, e.id
LIMIT $limit
"""

# Every article of the given events (all days, so an event's earlier reports show too).
EVENT_ARTICLES = """
SELECT ea.event_id, a.source, a.title, a.url, coalesce(a.published_at, a.fetched_at) AS seen_at,
       a.day = $day AS on_day, d.duplicate_of IS NOT NULL AS is_copy
FROM event_articles AS ea
JOIN article_days AS a ON a.id = ea.article_id
LEFT JOIN duplicates AS d ON d.article_id = a.id
WHERE list_contains($event_ids, ea.event_id)
ORDER BY ea.event_id, seen_at NULLS LAST, a.source, a.id
"""

# The developing stories (more than one event) of the given events, with all their events,
# oldest first: each top event's story timeline.
STORY_TIMELINES = """
SELECT s.id, s.title, s.first_seen, s.last_seen, s.n_events, s.n_articles,
       e.id, e.headline, e.first_seen, e.n_sources, e.n_articles
FROM stories AS s JOIN events AS e ON e.story_id = s.id
WHERE s.n_events > 1
  AND s.id IN (SELECT story_id FROM events WHERE list_contains($event_ids, id))
ORDER BY s.id, e.first_seen NULLS LAST, e.id
"""

# Articles of the given events on $day, per UTC hour (hours without articles are absent).
EVENT_ARTICLES_PER_HOUR = """
SELECT hour(coalesce(a.published_at, a.fetched_at)) AS h, count(*) AS n
FROM event_articles AS ea JOIN article_days AS a ON a.id = ea.article_id
WHERE a.day = $day AND list_contains($event_ids, ea.event_id)
GROUP BY h
ORDER BY h
"""

# Every outlet's articles (and the events they belong to) on $day.
SOURCES_ON_DAY = """
SELECT a.source, count(*) AS n_articles, count(DISTINCT ea.event_id) AS n_events
FROM article_days AS a LEFT JOIN event_articles AS ea ON ea.article_id = a.id
WHERE a.day = $day
GROUP BY a.source
ORDER BY n_articles DESC, a.source
"""

DAY_TOTALS = """
SELECT count(*) AS n_articles, count(DISTINCT ea.event_id) AS n_events
FROM article_days AS a LEFT JOIN event_articles AS ea ON ea.article_id = a.id
WHERE a.day = $day
"""

# --- watchlists -------------------------------------------------------------------------

# The events one rule matches, among all events ($all_events) or those in $event_ids.
# Each `*_any` clause is skipped when its list is empty, else needs one common value;
# comparison is case-insensitive (the parameters arrive lower-cased). The `*_hit` columns keep
# the stored spelling of what matched: they become the alert's "why". An event that
# re-clustering formed from events this rule already alerted on (event_merges, followed
# through every step) is the same happening under a new id: it does not alert again.
MATCH_RULE = """
WITH RECURSIVE merged_from (event_id, ancestor) AS (
    SELECT into_event_id, from_event_id FROM event_merges
    UNION
    SELECT f.event_id, m.from_event_id
    FROM merged_from AS f JOIN event_merges AS m ON m.into_event_id = f.ancestor
),
already_alerted AS (
    SELECT DISTINCT f.event_id
    FROM merged_from AS f JOIN alerts AS al ON al.event_id = f.ancestor AND al.rule = $rule
),
event_sources AS (
    SELECT ea.event_id, list(DISTINCT a.source ORDER BY a.source) AS sources
    FROM event_articles AS ea JOIN articles AS a ON a.id = ea.article_id
    WHERE len($sources_any) > 0  -- only rules about outlets need this join
      AND ($all_events OR ea.event_id IN (SELECT unnest($event_ids)))
    GROUP BY ea.event_id
),
scoped AS (
    SELECT e.id, e.headline, e.event_date, coalesce(e.n_sources, 0) AS n_sources,
           coalesce(e.actors, []) AS actors, coalesce(e.places, []) AS places,
           coalesce(e.keywords, []) AS keywords, coalesce(s.sources, []) AS sources
    FROM events AS e LEFT JOIN event_sources AS s ON s.event_id = e.id
    WHERE ($all_events OR e.id IN (SELECT unnest($event_ids)))
      AND e.id NOT IN (SELECT event_id FROM already_alerted)
)
SELECT id, headline, event_date, n_sources,
       list_filter(actors, lambda x: list_contains($actors_any, lower(x))) AS actors_hit,
       list_filter(places, lambda x: list_contains($places_any, lower(x))) AS places_hit,
       list_filter(keywords, lambda x: list_contains($keywords_any, lower(x))) AS keywords_hit,
       list_filter(sources, lambda x: list_contains($sources_any, lower(x))) AS sources_hit
FROM scoped
WHERE (len($actors_any) = 0
       OR list_has_any(list_transform(actors, lambda x: lower(x)), $actors_any))
  AND (len($places_any) = 0
       OR list_has_any(list_transform(places, lambda x: lower(x)), $places_any))
  AND (len($keywords_any) = 0
       OR list_has_any(list_transform(keywords, lambda x: lower(x)), $keywords_any))
  AND (len($sources_any) = 0
       OR list_has_any(list_transform(sources, lambda x: lower(x)), $sources_any))
  AND n_sources >= $min_sources
ORDER BY id
"""

# Matches arrive as an Arrow table `batch`; only the first match of a (rule, event) is kept,
# and RETURNING gives back exactly the rows that are new.
INSERT_ALERTS = """
INSERT INTO alerts (rule, event_id, matched_at, run_id, why, headline, event_date, n_sources)
SELECT rule, event_id, now(), run_id, why, headline, event_date, n_sources FROM batch
ON CONFLICT DO NOTHING
RETURNING rule, event_id, matched_at, run_id, why, headline, event_date, n_sources
"""

# Delivery state of every (alert, URL) among the configured URLs ($url_ids).
DELIVERY_STATE = """
SELECT rule, event_id, url_id, status, attempts
FROM alert_deliveries
WHERE list_contains($url_ids, url_id)
"""

# Failed deliveries to still-configured URLs that have attempts left, with their alert.
RETRYABLE_DELIVERIES = """
SELECT d.url_id, a.rule, a.event_id, a.matched_at, a.run_id, a.why, a.headline,
       a.event_date, a.n_sources
FROM alert_deliveries AS d JOIN alerts AS a USING (rule, event_id)
WHERE d.status = 'failed' AND list_contains($url_ids, d.url_id)
ORDER BY a.matched_at, a.rule, a.event_id
"""

# One row per attempt in `batch`; `attempts` there is already the new total.
UPSERT_DELIVERIES = """
INSERT INTO alert_deliveries (rule, event_id, url_id, url, status, error, attempts,
                              first_attempt_at, last_attempt_at, delivered_at)
SELECT rule, event_id, url_id, url, status, error, attempts, now(), now(),
       CASE WHEN status = 'delivered' THEN now() END
FROM batch
ON CONFLICT (rule, event_id, url_id) DO UPDATE SET
    url = excluded.url, status = excluded.status, error = excluded.error,
    attempts = excluded.attempts, last_attempt_at = excluded.last_attempt_at,
    delivered_at = excluded.delivered_at
"""

# Recent matches, newest first, with how their deliveries went.
RECENT_ALERTS = """
SELECT a.rule, a.event_id, a.matched_at, a.run_id, a.why, a.headline, a.event_date,
       a.n_sources,
       count(d.url_id) FILTER (WHERE d.status = 'delivered') AS delivered,
       count(d.url_id) FILTER (WHERE d.status <> 'delivered') AS undelivered
FROM alerts AS a LEFT JOIN alert_deliveries AS d USING (rule, event_id)
WHERE $since IS NULL OR a.matched_at >= $since
GROUP BY ALL
ORDER BY a.matched_at DESC, a.rule, a.event_id
LIMIT $limit
"""
