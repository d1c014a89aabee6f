"""Every SQL statement the warehouse runs, as named constants (DDL lives in migrations/).

Batches arrive as Arrow tables registered on the connection under the name `batch` (or `ids`
for a list of article ids); values are never pasted into SQL, only bound.
"""

from __future__ import annotations

# The tables this package loads. Other modules may add tables through their own migrations
# (e.g. 0010_alerts.sql), so counts and exports list the catalog: ALL_TABLES.
TABLES = (
    "sources",
    "runs",
    "fetch_log",
    "validators",
    "raw_pages",
    "extraction_log",
    "articles",
    "duplicates",
    "events",
    "event_articles",
    "event_merges",
    "stories",
    "robots",
    "schema_version",
)

VIEWS = (
    "top_events_today",
    "event_timeline",
    "coverage_per_source_day",
    "failures_per_source",
    "unclustered_articles",
)

# The storage format of the connection's main file (DuckDB records it in the database's tags).
STORAGE_VERSION_OF_FILE = """
SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()
"""

ALL_TABLES = """
SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_name
"""

# --- runs -------------------------------------------------------------------------------

START_RUN = """
INSERT INTO runs (run_id, flow_run_id, started_at, finished_at, status, parameters, counts)
VALUES ($run_id, $flow_run_id, now(), NULL, 'running', $parameters, NULL)
ON CONFLICT (run_id) DO UPDATE SET
    flow_run_id = coalesce(excluded.flow_run_id, runs.flow_run_id),
    parameters = excluded.parameters,
    status = 'running',
    finished_at = NULL
"""

FINISH_RUN = """
INSERT INTO runs (run_id, flow_run_id, started_at, finished_at, status, parameters, counts)
VALUES ($run_id, NULL, NULL, now(), $status, NULL, $counts)
ON CONFLICT (run_id) DO UPDATE SET
    finished_at = now(), status = excluded.status, counts = excluded.counts
"""

# --- sources ----------------------------------------------------------------------------

UPSERT_SOURCES = """
INSERT INTO sources (name, feeds, sitemaps, urls, language, country, first_seen, last_success_at)
SELECT name, feeds, sitemaps, urls, language, country, now(), NULL FROM batch
ON CONFLICT (name) DO UPDATE SET
    feeds = excluded.feeds, sitemaps = excluded.sitemaps, urls = excluded.urls,
    language = excluded.language, country = excluded.country
"""

MARK_SOURCE_SUCCESS = """
INSERT INTO sources (name, feeds, sitemaps, urls, language, country, first_seen, last_success_at)
SELECT name, [], [], [], NULL, NULL, $at, $at FROM batch
ON CONFLICT (name) DO UPDATE SET
    last_success_at = greatest(sources.last_success_at, excluded.last_success_at)
"""

# --- fetches ----------------------------------------------------------------------------

UPSERT_FETCH_LOG = """
INSERT INTO fetch_log (run_id, url, source, status_code, error_class, error, n_bytes,
                       elapsed_ms, attempt, fetched_at, kind)
SELECT run_id, url, source, status_code, error_class, error, n_bytes,
       elapsed_ms, attempt, coalesce(fetched_at, now()), kind FROM batch
ON CONFLICT (run_id, url) DO UPDATE SET
    source = excluded.source, status_code = excluded.status_code, kind = excluded.kind,
    error_class = excluded.error_class, error = excluded.error, n_bytes = excluded.n_bytes,
    elapsed_ms = excluded.elapsed_ms, attempt = excluded.attempt,
    fetched_at = excluded.fetched_at
"""

# Only the newest response per URL is kept: an older one arriving late does not overwrite it.
UPSERT_RAW_PAGES = """
INSERT INTO raw_pages (url, source, final_url, status_code, fetched_at, content_type,
                       n_bytes, html_zstd)
SELECT url, source, final_url, status_code, coalesce(fetched_at, now()), content_type,
       n_bytes, html_zstd FROM batch
ON CONFLICT (url) DO UPDATE SET
    source = excluded.source, final_url = excluded.final_url,
    status_code = excluded.status_code, fetched_at = excluded.fetched_at,
    content_type = excluded.content_type, n_bytes = excluded.n_bytes,
    html_zstd = excluded.html_zstd
WHERE excluded.fetched_at >= raw_pages.fetched_at OR raw_pages.fetched_at IS NULL
"""

UPSERT_VALIDATORS = """
INSERT INTO validators (url, etag, last_modified, updated_at)
SELECT url, etag, last_modified, now() FROM batch
ON CONFLICT (url) DO UPDATE SET
    etag = excluded.etag, last_modified = excluded.last_modified, updated_at = now()
"""

SELECT_VALIDATORS = """
SELECT url, etag, last_modified FROM validators WHERE url IN (SELECT url FROM batch)
"""

# robots.txt answers per host (scheme://host[:port]), kept until they expire (migration 0014).
UPSERT_ROBOTS = """
INSERT INTO robots (host, fetched_at, expires_at, status_code, rules)
SELECT host, fetched_at, expires_at, status_code, rules FROM batch
ON CONFLICT (host) DO UPDATE SET
    fetched_at = excluded.fetched_at, expires_at = excluded.expires_at,
    status_code = excluded.status_code, rules = excluded.rules
WHERE excluded.fetched_at >= robots.fetched_at
"""

# The hosts registered as `batch` (column `name`) whose answer is still valid at $now.
SELECT_ROBOTS = """
SELECT host, fetched_at, expires_at, status_code, rules FROM robots
WHERE host IN (SELECT name FROM batch) AND expires_at > $now
"""

# --- extraction -------------------------------------------------------------------------

UPSERT_EXTRACTION_LOG = """
INSERT INTO extraction_log (url, run_id, source, status, reason, article_id, logged_at)
SELECT url, run_id, source, status, reason, article_id, now() FROM batch
ON CONFLICT (url, run_id) DO UPDATE SET
    source = excluded.source, status = excluded.status, reason = excluded.reason,
    article_id = excluded.article_id, logged_at = excluded.logged_at
"""

_ARTICLE_COLUMNS = """id, canonical_url, url, urls, source, title, author, published_at,
    date_source, language, site_name, description, text, content_hash,
    fetched_at, run_id, actors, places, event_date, dates, keywords, tags,
    who, where_name, where_country, where_lat, where_lon, where_id"""
_WHERE_UPDATE = """where_name = excluded.where_name, where_country = excluded.where_country,
    where_lat = excluded.where_lat, where_lon = excluded.where_lon,
    where_id = excluded.where_id"""

# Articles load in two statements (same transaction): already stored ids are upserted, new ids
# are inserted plainly. ON CONFLICT costs about twice a plain insert, and most rows are new.

# A stored article keeps its first fetch time, its first run and every URL it was reached by;
# everything else takes the newest extraction (re-extraction may be better).
UPSERT_EXISTING_ARTICLES = f"""
INSERT INTO articles ({_ARTICLE_COLUMNS})
SELECT {_ARTICLE_COLUMNS} FROM batch
WHERE id IN (SELECT id FROM articles)
ON CONFLICT (id) DO UPDATE SET
    url = excluded.url,
    urls = list_concat(
        articles.urls,
        list_filter(excluded.urls, lambda u: NOT list_contains(articles.urls, u))
    ),
    source = excluded.source, title = excluded.title, author = excluded.author,
    published_at = excluded.published_at, date_source = excluded.date_source,
    language = excluded.language, site_name = excluded.site_name,
    description = excluded.description, text = excluded.text,
    content_hash = excluded.content_hash,
    fetched_at = coalesce(articles.fetched_at, excluded.fetched_at),
    run_id = coalesce(articles.run_id, excluded.run_id),
    actors = excluded.actors, places = excluded.places, event_date = excluded.event_date,
    dates = excluded.dates, keywords = excluded.keywords, tags = excluded.tags,
    who = excluded.who, {_WHERE_UPDATE}
"""

INSERT_NEW_ARTICLES = f"""
INSERT INTO articles ({_ARTICLE_COLUMNS})
SELECT {_ARTICLE_COLUMNS} FROM batch
WHERE id NOT IN (SELECT id FROM articles)
"""

# --- clusters ---------------------------------------------------------------------------

DELETE_DUPLICATES_OF_IDS = "DELETE FROM duplicates WHERE article_id IN (SELECT id FROM ids)"
DELETE_MEMBERSHIPS_OF_IDS = "DELETE FROM event_articles WHERE article_id IN (SELECT id FROM ids)"
DELETE_EMPTY_EVENTS = "DELETE FROM events WHERE id NOT IN (SELECT event_id FROM event_articles)"

_EVENT_COLUMNS = """id, headline, event_date, first_seen, last_seen, actors, places, keywords,
    n_articles, n_sources, n_copies, who, where_name, where_country, where_lat, where_lon,
    where_id, actor_keys, story_id, terms"""

UPSERT_EVENTS = f"""
INSERT INTO events ({_EVENT_COLUMNS}, updated_at)
SELECT {_EVENT_COLUMNS}, now() FROM batch
ON CONFLICT (id) DO UPDATE SET
    headline = excluded.headline, event_date = excluded.event_date,
    first_seen = least(events.first_seen, excluded.first_seen),
    last_seen = greatest(events.last_seen, excluded.last_seen),
    actors = excluded.actors, places = excluded.places, keywords = excluded.keywords,
    n_articles = excluded.n_articles, n_sources = excluded.n_sources,
    n_copies = excluded.n_copies, who = excluded.who, {_WHERE_UPDATE},
    actor_keys = excluded.actor_keys, updated_at = now(),
    story_id = coalesce(excluded.story_id, events.story_id), terms = excluded.terms
"""

UPSERT_STORIES = """
INSERT INTO stories (id, title, first_seen, last_seen, n_events, n_articles, actors, places,
                     updated_at)
SELECT id, title, first_seen, last_seen, n_events, n_articles, actors, places, now() FROM batch
ON CONFLICT (id) DO UPDATE SET
    title = excluded.title, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
    n_events = excluded.n_events, n_articles = excluded.n_articles,
    actors = excluded.actors, places = excluded.places, updated_at = now()
"""

# Stories no event names any more (their events were re-clustered into other stories).
DELETE_EMPTY_STORIES = """
DELETE FROM stories
WHERE id NOT IN (SELECT story_id FROM events WHERE story_id IS NOT NULL)
"""

UPSERT_MEMBERSHIPS = """
INSERT INTO event_articles (article_id, event_id, score, features)
SELECT article_id, event_id, score, features FROM batch
ON CONFLICT (article_id) DO UPDATE SET
    event_id = excluded.event_id, score = excluded.score, features = excluded.features
"""

UPSERT_DUPLICATES = """
INSERT INTO duplicates (article_id, duplicate_of, kind, score)
SELECT article_id, duplicate_of, kind, score FROM batch
ON CONFLICT (article_id) DO UPDATE SET
    duplicate_of = excluded.duplicate_of, kind = excluded.kind, score = excluded.score
"""

INSERT_MERGES = """
INSERT INTO event_merges (from_event_id, into_event_id, merged_at, run_id)
SELECT from_event_id, into_event_id, now(), run_id FROM batch
ON CONFLICT DO NOTHING
"""

# --- maintenance ------------------------------------------------------------------------

_RAW_TOO_OLD = "fetched_at < now() - to_days(CAST($days AS INTEGER))"
PRUNE_RAW = f"DELETE FROM raw_pages WHERE {_RAW_TOO_OLD}"
COUNT_RAW_TO_PRUNE = f"SELECT count(*) FILTER (WHERE {_RAW_TOO_OLD}), count(*) FROM raw_pages"

# --- reads ------------------------------------------------------------------------------

STORED_CANONICAL_URLS = """
SELECT canonical_url FROM articles WHERE canonical_url IN (SELECT url FROM batch)
"""

KNOWN_URLS = """
SELECT DISTINCT u.url FROM (SELECT unnest(urls) AS url FROM articles) AS u
WHERE u.url IN (SELECT url FROM batch)
UNION
SELECT canonical_url FROM articles WHERE canonical_url IN (SELECT url FROM batch)
"""

# The sources registered as `batch` (column `name`) that ever completed a run.
LAST_SUCCESS = """
SELECT name, last_success_at FROM sources
WHERE name IN (SELECT name FROM batch) AND last_success_at IS NOT NULL
"""

# Stored articles as the fields of extractors.models.Article (queries._article builds them).
_ARTICLE_RECORDS = """
SELECT id, url, canonical_url, source, title, text, content_hash, urls, author, published_at,
       date_source, language, site_name, description, fetched_at,
       actors, places, event_date, dates, keywords, tags,
       who, where_name, where_country, where_lat, where_lon, where_id
FROM articles
"""

ARTICLES_IN_WINDOW = _ARTICLE_RECORDS + """
WHERE published_at >= $since OR fetched_at >= $since OR event_date >= CAST($since AS DATE)
ORDER BY coalesce(published_at, fetched_at), id
"""

# Stored articles by id (registered Arrow table `ids`): what a run extracted, for clustering.
ARTICLES_BY_IDS = _ARTICLE_RECORDS + """
WHERE id IN (SELECT id FROM ids)
ORDER BY id
"""

# Stored articles that no clustering has placed yet (a run stopped between load and cluster).
UNCLUSTERED_ARTICLES = _ARTICLE_RECORDS + """
WHERE id NOT IN (SELECT article_id FROM event_articles)
ORDER BY id
"""

RAW_PAGES = """
SELECT url, source, final_url, status_code, content_type, n_bytes, fetched_at, html_zstd
FROM raw_pages
WHERE ($all_urls OR url IN (SELECT url FROM batch))
  AND ($since IS NULL OR fetched_at >= $since)
ORDER BY url
"""

TOP_EVENTS = "SELECT * FROM top_events_today LIMIT $limit"

# Pages of the sources registered as `batch` (column `name`) whose latest fetch failed and
# that no later fetch or extraction covered, with the number of runs they failed in (the
# caller decides which errors are worth a retry). One query for every source of a run.
PENDING_RETRIES = """
WITH attempts AS (
    SELECT url, source, status_code, error_class, fetched_at,
           count(*) OVER (PARTITION BY url) AS n_runs,
           row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) AS newest
    FROM fetch_log
    WHERE source IN (SELECT name FROM batch) AND kind = 'page'
)
SELECT url, source, status_code, error_class, n_runs FROM attempts
WHERE newest = 1 AND error_class IS NOT NULL
  AND url NOT IN (SELECT url FROM extraction_log)
  AND url NOT IN (SELECT canonical_url FROM articles)
ORDER BY source, url
"""

# The stored events that stories of the window may continue: every event of a story seen
# since $since, except events all of whose articles are being re-clustered (ids: the window),
# which the new clustering replaces.
STORY_CONTEXT = """
SELECT e.id, e.headline, e.event_date, e.first_seen, e.last_seen, e.actors, e.places,
       e.keywords, e.n_articles, e.n_sources, e.n_copies, e.terms, e.story_id
FROM events AS e
WHERE e.story_id IN (
    SELECT story_id FROM events
    WHERE story_id IS NOT NULL AND coalesce(last_seen, first_seen) >= $since
)
  AND e.id IN (
    SELECT event_id FROM event_articles WHERE article_id NOT IN (SELECT id FROM ids)
)
ORDER BY e.id
"""

# The story each of a batch of article ids (registered as `ids`) is in now, through its event.
STORY_OF_ARTICLES = """
SELECT ea.article_id, e.story_id
FROM event_articles AS ea JOIN ids ON ids.id = ea.article_id
JOIN events AS e ON e.id = ea.event_id
WHERE e.story_id IS NOT NULL
"""

# Current event of each of a batch of article ids (registered as `ids`).
EVENT_OF_ARTICLES = """
SELECT ea.article_id, ea.event_id FROM event_articles ea JOIN ids ON ids.id = ea.article_id
"""

# Why pages of one run were not stored: fetch errors and extraction skips/failures, counted.
RUN_FAILURES = """
SELECT 'fetch' AS stage, error_class AS reason, count(*) AS n FROM fetch_log
WHERE run_id = $run_id AND error_class IS NOT NULL GROUP BY ALL
UNION ALL
SELECT status AS stage, regexp_replace(coalesce(reason, ''), ' \\(.*$', '') AS reason,
       count(*) AS n
FROM extraction_log WHERE run_id = $run_id AND status <> 'extracted' GROUP BY ALL
ORDER BY n DESC, stage, reason
"""

RUN_STARTED_AT = "SELECT started_at FROM runs WHERE run_id = $run_id"

# Applied to a connection before running a user's query (`newsmon sql`); cannot be undone
# by that query.
NO_EXTERNAL_ACCESS = "SET enable_external_access = false"
