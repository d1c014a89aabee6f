"""Every SQL statement of the daily digest and the watchlists, as named constants.

Values are always bound (`$name`), never pasted in. A digest's day is either the UTC date an
article was published, else fetched (the `article_days` view in views.sql, the same day
`top_events_today` uses), or, with `$by_fetch`, the UTC date newsmon fetched it: what one
day's runs brought in. Connections from warehouse.db run with TimeZone = 'UTC', so `hour()`
is a UTC hour.
"""

from __future__ import annotations

# --- digest -----------------------------------------------------------------------------

LATEST_DAY = "SELECT max(day) FROM article_days"
LATEST_FETCH_DAY = "SELECT CAST(max(fetched_at) AS DATE) FROM articles"

# The day an article of `article_days AS a` counts for in this digest.
_DAY = "(CASE WHEN $by_fetch THEN CAST(a.fetched_at AS DATE) ELSE a.day END)"

# Events with at least one article on $day, most widely reported first.
DAY_EVENTS = f"""
SELECT e.id, e.headline, e.event_date, e.places, e.actors,
       e.first_seen, e.last_seen, e.n_sources, e.n_articles,
       e.who, e.where_name, e.where_country, e.where_lat, e.where_lon, e.where_id,
       e.languages
FROM events AS e
WHERE e.id IN (
    SELECT ea.event_id
    FROM event_articles AS ea JOIN article_days AS a ON a.id = ea.article_id
    WHERE {_DAY} = $day
)
ORDER BY e.n_sources DESC NULLS LAST, e.n_articles DESC NULLS LAST,
         e.last_seen DESC NULLS LAST, e.id
LIMIT $limit
"""

# Every article of the given events (all days, so an event's earlier reports show too).
EVENT_ARTICLES = f"""
SELECT ea.event_id, a.source, a.title, a.url, coalesce(a.published_at, a.fetched_at) AS seen_at,
       {_DAY} = $day AS on_day, d.duplicate_of IS NOT NULL AS is_copy
FROM event_articles AS ea
JOIN article_days AS a ON a.id = ea.article_id
LEFT JOIN duplicates AS d ON d.article_id = a.id
WHERE list_contains($event_ids, ea.event_id)
ORDER BY ea.event_id, seen_at NULLS LAST, a.source, a.id
"""

# The developing stories (more than one event) of the given events, with all their events,
# oldest first: each top event's story timeline.
STORY_TIMELINES = """
SELECT s.id AS story_id, s.title, s.first_seen, s.last_seen, s.n_events, s.n_articles,
       e.id AS event_id, e.headline, e.first_seen AS event_first_seen, e.n_sources,
       e.n_articles AS event_n_articles
FROM stories AS s JOIN events AS e ON e.story_id = s.id
WHERE s.n_events > 1
  AND s.id IN (SELECT story_id FROM events WHERE list_contains($event_ids, id))
ORDER BY s.id, e.first_seen NULLS LAST, e.id
"""

# Articles of the given events on $day, per UTC hour of that day (hours without articles are
# absent): the hour fetched, or with $by_fetch false the hour published (else fetched), so that
# the hours are always those of $day.
EVENT_ARTICLES_PER_HOUR = f"""
SELECT hour(CASE WHEN $by_fetch THEN a.fetched_at
                 ELSE coalesce(a.published_at, a.fetched_at) END) AS h, count(*) AS n
FROM event_articles AS ea JOIN article_days AS a ON a.id = ea.article_id
WHERE {_DAY} = $day AND list_contains($event_ids, ea.event_id)
GROUP BY h
ORDER BY h
"""

# Every outlet's articles (and the events they belong to) on $day.
SOURCES_ON_DAY = f"""
SELECT a.source, count(*) AS n_articles, count(DISTINCT ea.event_id) AS n_events
FROM article_days AS a LEFT JOIN event_articles AS ea ON ea.article_id = a.id
WHERE {_DAY} = $day
GROUP BY a.source
ORDER BY n_articles DESC, a.source
"""

DAY_TOTALS = f"""
SELECT count(*) AS n_articles, count(DISTINCT ea.event_id) AS n_events
FROM article_days AS a LEFT JOIN event_articles AS ea ON ea.article_id = a.id
WHERE {_DAY} = $day
"""

# --- watchlists -------------------------------------------------------------------------

# What rule matching needs of the events in scope: all events ($all_events) or those in
# $event_ids, with their outlets and the rules that already alerted on an event they were
# merged from (event_merges, followed through every step): re-clustering that forms an event
# from alerted ones is the same happening under a new id, and must not alert again.
WATCHED_EVENTS = """
WITH RECURSIVE merged_from (event_id, ancestor) AS (
    SELECT into_event_id, from_event_id FROM event_merges
    UNION
    SELECT f.event_id, m.from_event_id
    FROM merged_from AS f JOIN event_merges AS m ON m.into_event_id = f.ancestor
),
scoped AS (
    SELECT * FROM events WHERE $all_events OR id IN (SELECT unnest($event_ids))
),
alerted AS (
    SELECT f.event_id, list(DISTINCT al.rule ORDER BY al.rule) AS rules
    FROM merged_from AS f JOIN alerts AS al ON al.event_id = f.ancestor
    WHERE f.event_id IN (SELECT id FROM scoped)
    GROUP BY f.event_id
),
outlets AS (
    SELECT ea.event_id, list(DISTINCT a.source ORDER BY a.source)
                        FILTER (WHERE a.source IS NOT NULL) AS sources
    FROM event_articles AS ea JOIN articles AS a ON a.id = ea.article_id
    WHERE ea.event_id IN (SELECT id FROM scoped)
    GROUP BY ea.event_id
)
SELECT e.id, coalesce(e.headline, '') AS headline, e.event_date,
       coalesce(e.n_sources, 0) AS n_sources,
       -- the main actors first, then every actor named (watchlists match either)
       list_concat(list_transform(coalesce(e.who, []), lambda w: w.name),
                   coalesce(e.actors, [])) AS actors,
       coalesce(e.places, []) AS places, coalesce(e.keywords, []) AS keywords,
       coalesce(o.sources, []) AS sources, coalesce(al.rules, []) AS alerted_before,
       coalesce(e.actor_keys, []) AS actor_keys,
       list_transform(list_filter(coalesce(e.who, []), lambda w: w.type = 'unnamed'),
                      lambda w: w.name) AS unnamed
FROM scoped AS e
LEFT JOIN outlets AS o ON o.event_id = e.id
LEFT JOIN alerted AS al ON al.event_id = e.id
ORDER BY e.id
"""

# Stored events last seen (or last re-clustered) since $since, or all when it is NULL: what
# `newsmon alerts --evaluate` applies the rules to.
EVENTS_SEEN_SINCE = """
SELECT id FROM events
WHERE $since IS NULL OR coalesce(last_seen, updated_at) >= $since
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
