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
    "entries",
    "overflows",
    "article_versions",
    "stories",
    "robots",
    "source_runs",
    "source_transitions",
    "schema_version",
)

VIEWS = (
    "top_events_today",
    "event_timeline",
    "coverage_per_source_day",
    "failures_per_source",
    "unclustered_articles",
    "coverage_ledger",
    "source_health",
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

# What a run committed, from the rows it wrote (the counts of a run that failed or died; the
# keys are RunSummary's).
RUN_COMMITTED = """
SELECT
    (SELECT count(*) FROM fetch_log
     WHERE run_id = $run_id AND kind = 'page' AND error_class IS NULL) AS pages_fetched,
    (SELECT count(*) FROM fetch_log
     WHERE run_id = $run_id AND kind = 'page' AND error_class IS NOT NULL) AS fetch_failures,
    (SELECT count(*) FROM articles WHERE run_id = $run_id) AS articles_new,
    (SELECT count(DISTINCT article_id) FROM article_versions
     WHERE replaced_by_run = $run_id) AS articles_updated,
    (SELECT count(*) FROM extraction_log
     WHERE run_id = $run_id AND status = 'skipped') AS skipped,
    (SELECT count(*) FROM extraction_log WHERE run_id = $run_id AND status = 'failed') AS failed
"""

# Runs still 'running' when another run holds the run lock died without a word (SIGKILL, a
# power cut): they are marked 'abandoned', with what they committed.
UNFINISHED_RUNS = "SELECT run_id FROM runs WHERE status = 'running' AND run_id <> $run_id"
ABANDON_RUN = "UPDATE runs SET status = 'abandoned', counts = $counts WHERE run_id = $run_id"

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
# Its HTML is in `file` (warehouse/raw_store.py); html_zstd is only filled for pages stored
# before migration 0018.
UPSERT_RAW_PAGES = """
INSERT INTO raw_pages (url, source, final_url, status_code, fetched_at, content_type,
                       n_bytes, html_zstd, file)
SELECT url, source, final_url, status_code, coalesce(fetched_at, now()), content_type,
       n_bytes, NULL, file FROM batch
ON CONFLICT (url) DO UPDATE SET
    source = excluded.source, final_url = excluded.final_url,
    status_code = excluded.status_code, fetched_at = excluded.fetched_at,
    content_type = excluded.content_type, n_bytes = excluded.n_bytes,
    html_zstd = NULL, file = excluded.file
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

UPSERT_LISTED_LASTMOD = """
INSERT INTO validators (url, etag, last_modified, updated_at, listed_lastmod)
SELECT url, NULL, NULL, now(), listed_lastmod FROM batch
ON CONFLICT (url) DO UPDATE SET listed_lastmod = excluded.listed_lastmod, updated_at = now()
"""

# What the next conditional reads of the given sources' documents (`batch`: name) may send:
# the validators and listed lastmods of every feed and sitemap they ever fetched.
SOURCE_DOCUMENT_STATE = """
SELECT d.source, v.url, v.etag, v.last_modified, v.listed_lastmod
FROM validators AS v
JOIN (SELECT DISTINCT source, url FROM fetch_log
      WHERE kind = 'document' AND source IN (SELECT name FROM batch)) AS d ON d.url = v.url
ORDER BY d.source, v.url
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
    who, where_name, where_country, where_lat, where_lon, where_id, where_confidence,
    when_source"""
_WHERE_UPDATE = """where_name = excluded.where_name, where_country = excluded.where_country,
    where_lat = excluded.where_lat, where_lon = excluded.where_lon,
    where_id = excluded.where_id, where_confidence = excluded.where_confidence,
    when_source = excluded.when_source"""

# Articles load in two statements (same transaction): already stored ids are upserted, new ids
# are inserted plainly. ON CONFLICT costs about twice a plain insert, and most rows are new.
# Which are stored is read first (ids and hashes only), so neither statement scans the table.
STORED_CONTENT_HASHES = "SELECT id, content_hash FROM articles WHERE id IN (SELECT id FROM ids)"

# Before a stored article takes a new extraction with other content, its current version is
# kept in article_versions (an updated article: the newest version is the articles row).
KEEP_REPLACED_VERSIONS = """
INSERT INTO article_versions (article_id, content_hash, title, text, published_at, fetched_at,
                              replaced_at, replaced_by_run)
SELECT a.id, a.content_hash, a.title, a.text, a.published_at,
       coalesce(a.updated_at, a.fetched_at), now(), b.run_id
FROM articles AS a JOIN batch AS b ON a.id = b.id
WHERE a.content_hash IS DISTINCT FROM b.content_hash AND a.source = b.source
ON CONFLICT DO NOTHING
"""

# Which source stored each of a batch's article ids (`ids`): another source never overwrites it.
ARTICLE_OWNERS = "SELECT id, source FROM articles WHERE id IN (SELECT id FROM ids)"

# A stored article keeps its first fetch time, its first run and every URL it was reached by;
# everything else takes the newest extraction (re-extraction may be better) of the same
# source (another source's page never replaces it: load.not_overwriting). `updated_at` says
# when a version with other content replaced it.
UPSERT_EXISTING_ARTICLES = f"""
INSERT INTO articles ({_ARTICLE_COLUMNS})
SELECT {_ARTICLE_COLUMNS} FROM batch
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
    who = excluded.who, {_WHERE_UPDATE},
    updated_at = CASE WHEN excluded.content_hash IS DISTINCT FROM articles.content_hash
                      THEN coalesce(excluded.fetched_at, now()) ELSE articles.updated_at END
WHERE articles.source = excluded.source
"""

INSERT_NEW_ARTICLES = f"""
INSERT INTO articles ({_ARTICLE_COLUMNS})
SELECT {_ARTICLE_COLUMNS} FROM batch
"""

# --- the coverage ledger (extractors/fetch/ledger.py) ------------------------------------

# One row per (source, url): sightings keep the first sighting and add what they know;
# `outcome`, `reason` and `stored_updated` are what the caller decided now.
UPSERT_ENTRIES = """
INSERT INTO entries (source, url, guid, via, title, published_at, updated, stored_updated,
                     outcome, reason, first_seen_at, last_seen_at, first_run_id, last_run_id,
                     refetched_at)
SELECT source, url, guid, via, title, published_at, updated, stored_updated, outcome, reason,
       seen_at, seen_at, run_id, run_id, refetched_at FROM batch
ON CONFLICT (source, url) DO UPDATE SET
    guid = coalesce(excluded.guid, entries.guid),
    title = coalesce(excluded.title, entries.title),
    published_at = coalesce(excluded.published_at, entries.published_at),
    updated = greatest(excluded.updated, entries.updated),
    stored_updated = excluded.stored_updated,
    outcome = excluded.outcome, reason = excluded.reason,
    last_seen_at = excluded.last_seen_at, last_run_id = excluded.last_run_id,
    refetched_at = coalesce(excluded.refetched_at, entries.refetched_at)
"""

UPSERT_OVERFLOWS = """
INSERT INTO overflows (run_id, source, url, kind, n_entries, last_read_at, read_at, fallback,
                       message, deferred)
SELECT run_id, source, url, kind, n_entries, last_read_at, read_at, fallback, message, deferred
FROM batch
ON CONFLICT (run_id, url) DO UPDATE SET
    n_entries = excluded.n_entries, read_at = excluded.read_at, fallback = excluded.fallback,
    message = excluded.message, deferred = excluded.deferred
"""

# Documents whose entries are not all handled are read in full by the next run.
DELETE_VALIDATORS = "DELETE FROM validators WHERE url IN (SELECT url FROM batch)"

# --- clusters ---------------------------------------------------------------------------

DELETE_DUPLICATES_OF_IDS = "DELETE FROM duplicates WHERE article_id IN (SELECT id FROM ids)"
DELETE_MEMBERSHIPS_OF_IDS = "DELETE FROM event_articles WHERE article_id IN (SELECT id FROM ids)"
DELETE_EMPTY_EVENTS = "DELETE FROM events WHERE id NOT IN (SELECT event_id FROM event_articles)"
# The same for the events some articles were in before (`ids`): bounded by them, not by history.
DELETE_EMPTY_EVENTS_OF = """
DELETE FROM events WHERE id IN (SELECT id FROM ids)
  AND id NOT IN (SELECT event_id FROM event_articles WHERE event_id IN (SELECT id FROM ids))
"""

# #27: the scored pairs of a re-clustered window replace the window's old ones.
DELETE_LINKS_OF_IDS = """
DELETE FROM event_links
WHERE article_id IN (SELECT id FROM ids) OR other_id IN (SELECT id FROM ids)
"""
UPSERT_LINKS = """
INSERT OR REPLACE INTO event_links
    (article_id, other_id, same_event, score, threshold, scorer, evidence, run_id)
SELECT article_id, other_id, same_event, score, threshold, scorer, evidence, run_id FROM batch
"""
# The languages each event of `ids` was reported in, most used first (then by code).
SET_EVENT_LANGUAGES = """
UPDATE events SET languages = found.languages
FROM (
    SELECT event_id, list(language ORDER BY n DESC, language) AS languages
    FROM (
        SELECT ea.event_id, a.language, count(*) AS n
        FROM event_articles AS ea JOIN articles AS a ON a.id = ea.article_id
        WHERE ea.event_id IN (SELECT id FROM ids) AND a.language IS NOT NULL
        GROUP BY ea.event_id, a.language
    )
    GROUP BY event_id
) AS found
WHERE events.id = found.event_id
"""

_EVENT_COLUMNS = """id, headline, event_date, first_seen, last_seen, actors, places, keywords,
    n_articles, n_sources, n_copies, who, where_name, where_country, where_lat, where_lon,
    where_id, where_confidence, when_source, actor_keys, story_id, terms"""

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
# The same for the stories given (`ids`): those of the events a clustering replaced.
DELETE_EMPTY_STORIES_OF = """
DELETE FROM stories WHERE id IN (SELECT id FROM ids)
  AND id NOT IN (SELECT story_id FROM events WHERE story_id IN (SELECT id FROM ids))
"""
STORIES_OF_EVENTS = "SELECT DISTINCT story_id FROM events WHERE id IN (SELECT id FROM ids)"

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

# The day an article is filed under in exports (as in the article_days view).
ARTICLE_DAY = "CAST(coalesce(published_at, fetched_at) AS DATE)"
# Days holding articles written since $since (every write of an article logs its extraction),
# or whose replaced version was.
ARTICLE_DAYS_CHANGED_SINCE = f"""
SELECT DISTINCT {ARTICLE_DAY} AS day FROM articles
WHERE id IN (SELECT article_id FROM extraction_log WHERE logged_at >= $since)
UNION
SELECT DISTINCT CAST(coalesce(published_at, fetched_at) AS DATE) FROM article_versions
WHERE replaced_at >= $since
ORDER BY 1
"""

_RAW_TOO_OLD = "fetched_at < now() - to_days(CAST($days AS INTEGER))"
PRUNE_RAW = f"DELETE FROM raw_pages WHERE {_RAW_TOO_OLD}"
COUNT_RAW_TO_PRUNE = f"SELECT count(*) FILTER (WHERE {_RAW_TOO_OLD}), count(*) FROM raw_pages"
# Pages stored inside the DuckDB file (before migration 0018) that a prune would drop: their
# space is reused by later writes, but only a copy (`prune --compact`) gives it to the disk.
COUNT_RAW_IN_FILE_TO_PRUNE = f"""
SELECT count(*), coalesce(sum(octet_length(html_zstd)), 0) FROM raw_pages
WHERE {_RAW_TOO_OLD} AND html_zstd IS NOT NULL
"""
RAW_FILES = "SELECT DISTINCT file FROM raw_pages WHERE file IS NOT NULL"

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

# Stored articles as the fields of extractors.models.Article (queries._article builds them);
# {text} is `text`, or '' where the texts are not needed.
_ARTICLE_RECORDS = """
SELECT id, url, canonical_url, source, title, {text} AS text, content_hash, urls, author,
       published_at, date_source, language, site_name, description, fetched_at,
       actors, places, event_date, dates, keywords, tags,
       who, where_name, where_country, where_lat, where_lon, where_id, where_confidence,
       when_source
FROM articles
"""

# Stored articles by id: {ids} is a list of bound parameters ($1, $2, ...; queries.
# rows_by_id_list), never values. A list of values, unlike a joined table, is looked up in the
# primary-key index: 0.02-0.1 s for 200 of a million articles, against a scan of every id
# (0.4-2.7 s, texts read for every row group holding one).
ARTICLES_BY_IDS = _ARTICLE_RECORDS.format(text="text") + """
WHERE id IN ({ids})
"""
# The same without the texts (an event's record reads facets, titles and times only).
ARTICLE_FACTS_BY_IDS = _ARTICLE_RECORDS.format(text="''") + """
WHERE id IN ({ids})
"""
TEXTS_BY_IDS = "SELECT id, text FROM articles WHERE id IN ({ids})"

RAW_PAGES = """
SELECT url, source, final_url, status_code, content_type, n_bytes, fetched_at, html_zstd, file
FROM raw_pages
WHERE ($all_urls OR url IN (SELECT url FROM batch))
  AND ($since IS NULL OR fetched_at >= $since)
ORDER BY url
"""

TOP_EVENTS = "SELECT * FROM top_events_today LIMIT $limit"

# The stories `batch`'s keys reach: those of the events seen since $since (but `ids`) holding
# one of them as a term ('t:'), an actor ('a:') or a place ('p:').
_STORY_NEAR = """
wanted AS (SELECT DISTINCT key FROM batch),
keyed AS (
    SELECT story_id, unnest(list_concat(list_transform(map_keys(terms), lambda t: 't:' || t),
                                        list_transform(actors, lambda a: 'a:' || a),
                                        list_transform(places, lambda p: 'p:' || p))) AS key
    FROM events
    WHERE story_id IS NOT NULL
      AND (last_seen >= $since OR (last_seen IS NULL AND first_seen >= $since))
      AND id NOT IN (SELECT id FROM ids)
),
near AS (SELECT DISTINCT story_id FROM keyed WHERE key IN (SELECT key FROM wanted))"""

# Stored events a clustering's events may join in stories, bounded by what they share: events
# in a story, seen since $since, not among those the clustering replaces (`ids`), sharing a
# term, an actor or a place with the new events (`batch`: key = 't:' term, 'a:' actor,
# 'p:' place); then every event of those events' stories, so story records come out whole.
# The window is a condition on plain columns (row groups outside it are skipped) and the keys
# are joined, not searched list by list: 3.2 s against 8.6 s at 1M stored articles.
STORY_CANDIDATES = f"""
WITH {_STORY_NEAR}
SELECT e.id, e.headline, e.event_date, e.first_seen, e.last_seen, e.actors, e.places,
       e.keywords, e.n_articles, e.n_sources, e.n_copies, e.terms, e.story_id
FROM events AS e
WHERE e.story_id IN (SELECT story_id FROM near) AND e.id NOT IN (SELECT id FROM ids)
ORDER BY e.id
"""

# The same context as STORY_CANDIDATES, narrow (#32): what placing a run's events needs of
# every event of it is its id, time, names (the first $top actors and places) and story; of
# their terms (`fresh_terms`), only which events hold one among the $cap latest holding
# it in arrival order (time, unknown last, then id: extractors/events/stories._arrival), the
# events placement can compare by a term. `fresh`: the run's event ids, left out as well.
STORY_CONTEXT = f"""
WITH {_STORY_NEAR},
context AS (
    SELECT id, first_seen, actors, places, story_id, terms FROM events
    WHERE story_id IN (SELECT story_id FROM near) AND id NOT IN (SELECT id FROM ids)
      AND id NOT IN (SELECT id FROM fresh)
),
latest AS (
    SELECT id, row_number() OVER (PARTITION BY term ORDER BY first_seen IS NULL DESC,
                                                            first_seen DESC, id DESC) AS rank
    FROM (SELECT id, first_seen, unnest(map_keys(terms)) AS term FROM context)
    WHERE term IN (SELECT term FROM fresh_terms)
),
by_terms AS (SELECT DISTINCT id FROM latest WHERE rank <= $cap)
SELECT c.id, epoch_us(c.first_seen) AS t_us, c.actors[1:$top] AS actors,
       c.places[1:$top] AS places,
       c.story_id, c.id IN (SELECT id FROM by_terms) AS by_terms
FROM context AS c
"""

# Stored events in stories, whole (what story placement compares, or a story's record is
# made of): those of a batch of ids (`ids`), or every event of a batch of stories
# (`story_ids`) but the run's (`fresh`) and those it replaces (`ids`).
_STORY_EVENT_COLUMNS = """e.id, e.headline, e.event_date, e.first_seen, e.last_seen, e.actors,
       e.places, e.keywords, e.n_articles, e.n_sources, e.n_copies, e.terms, e.story_id"""
STORY_EVENTS_BY_IDS = f"""
SELECT {_STORY_EVENT_COLUMNS} FROM events AS e
WHERE e.id IN (SELECT id FROM ids) AND e.story_id IS NOT NULL ORDER BY e.id
"""
STORY_MEMBERS = f"""
SELECT {_STORY_EVENT_COLUMNS} FROM events AS e
WHERE e.story_id IN (SELECT id FROM story_ids) AND e.id NOT IN (SELECT id FROM ids)
  AND e.id NOT IN (SELECT id FROM fresh)
ORDER BY e.id
"""

# Current event of each of a batch of article ids (registered as `ids`), and the story that
# event is in (NULL when none).
EVENT_AND_STORY_OF_ARTICLES = """
SELECT ea.article_id, ea.event_id, e.story_id
FROM event_articles AS ea JOIN ids ON ids.id = ea.article_id
LEFT JOIN events AS e ON e.id = ea.event_id
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

# What the warehouse knows about each of a batch of entry URLs (`batch`): reached by a stored
# article; the latest page fetch (its error; in how many runs the fetch failed since the page
# was last fetched fine) and the extraction of that fetch; the GUID and stored version's
# `updated` the ledger holds. Unknown URLs: no row.
ENTRY_FACTS = f"""
WITH wanted AS (SELECT DISTINCT url FROM batch),
stored AS ({KNOWN_URLS}),
fetches AS (
    SELECT url, run_id, status_code, error_class, fetched_at,
           max(CASE WHEN error_class IS NULL THEN fetched_at END)
               OVER (PARTITION BY url) AS last_ok_at,
           row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC, run_id DESC) AS newest
    FROM fetch_log
    WHERE kind = 'page' AND url IN (SELECT url FROM wanted)
),
pages AS (
    SELECT url, run_id, status_code, error_class, newest,
           count(*) FILTER (WHERE error_class IS NOT NULL
                            AND (last_ok_at IS NULL OR fetched_at > last_ok_at))
               OVER (PARTITION BY url) AS n_runs
    FROM fetches
),
ledger AS (
    SELECT url, any_value(guid) AS guid, max(stored_updated) AS baseline
    FROM entries WHERE url IN (SELECT url FROM wanted) GROUP BY url
)
SELECT w.url, s.url IS NOT NULL AS stored, p.error_class AS fetch_error,
       p.status_code AS fetch_status, coalesce(p.n_runs, 0) AS failed_runs,
       x.status AS extraction, x.reason AS extraction_reason, e.guid, e.baseline
FROM wanted AS w
LEFT JOIN stored AS s ON s.url = w.url
LEFT JOIN pages AS p ON p.url = w.url AND p.newest = 1
LEFT JOIN extraction_log AS x ON x.url = p.url AND x.run_id = p.run_id
LEFT JOIN ledger AS e ON e.url = w.url
WHERE s.url IS NOT NULL OR p.url IS NOT NULL OR e.url IS NOT NULL
"""

# (source, guid) -> url the ledger knows each of a batch of GUIDs at (`batch`: source, guid).
LEDGER_GUIDS = """
SELECT e.source, e.guid, min(e.url) AS url FROM entries AS e
JOIN batch AS b ON b.source = e.source AND b.guid = e.guid
GROUP BY ALL
"""

# When an earlier run last read each of a batch of feeds/sitemaps (`batch`: url).
DOCUMENTS_READ_BEFORE = """
SELECT url, max(fetched_at) AS read_at FROM fetch_log
WHERE kind = 'document' AND status_code IN (200, 304) AND run_id <> $run_id
  AND url IN (SELECT url FROM batch)
GROUP BY url
"""

# Entries of the given sources (`batch`: name) the ledger still owes a fetch, even if no feed
# lists them any more: pending ones, those a --since run left out, stored ones whose update
# was seen but not fetched yet; and pages whose latest fetch failed (from before the ledger,
# or listed URLs). Whether each is due now is decided by extractors/fetch/ledger.py.
LEDGER_BACKLOG = """
SELECT source, url, via, title, published_at AS published, updated, guid FROM entries
WHERE source IN (SELECT name FROM batch)
  AND (outcome = 'pending' OR (outcome = 'skipped' AND reason = 'before --since')
       OR (outcome = 'stored' AND updated > stored_updated))
UNION ALL
SELECT f.source, f.url, 'list', NULL, NULL, NULL, NULL FROM (
    SELECT source, url, error_class,
           row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) AS newest
    FROM fetch_log WHERE kind = 'page' AND source IN (SELECT name FROM batch)
      -- only URLs that ever failed can have a failed newest fetch: ranking every fetch of
      -- the sources' history cost seconds a year in
      AND url IN (SELECT url FROM fetch_log WHERE kind = 'page' AND error_class IS NOT NULL
                  AND source IN (SELECT name FROM batch))
) AS f
WHERE f.newest = 1 AND f.error_class IS NOT NULL
  AND f.url NOT IN (SELECT url FROM entries)
ORDER BY 1, 2
"""

# What one run added: articles it inserted first, versions it replaced.
ARTICLES_INSERTED_BY_RUN = "SELECT count(*) FROM articles WHERE run_id = $run_id"
ARTICLES_UPDATED_BY_RUN = """
SELECT count(DISTINCT article_id) FROM article_versions WHERE replaced_by_run = $run_id
"""

# The coverage ledger rows (source, day) that hold entries one run saw or fetched.
RUN_COVERAGE = """
SELECT c.* FROM coverage_ledger AS c
WHERE EXISTS (
    SELECT 1 FROM entries AS e
    WHERE e.last_run_id = $run_id AND e.source = c.source
      AND CAST(e.first_seen_at AS DATE) = c.day
) OR EXISTS (
    SELECT 1 FROM overflows AS o
    WHERE o.run_id = $run_id AND o.source = c.source AND CAST(o.read_at AS DATE) = c.day
)
ORDER BY c.day, c.source
"""

RUN_OVERFLOWS = "SELECT message FROM overflows WHERE run_id = $run_id ORDER BY source, url"

# Where incremental work resumes (migration 0018): one row per task.
WATERMARK = "SELECT handled_until, state FROM watermarks WHERE name = $name"
WATERMARKS = "SELECT name, handled_until FROM watermarks WHERE name LIKE $prefix || '%'"
SET_WATERMARK = """
INSERT INTO watermarks (name, handled_until, state) VALUES ($name, $at, $state)
ON CONFLICT (name) DO UPDATE SET handled_until = excluded.handled_until, state = excluded.state
"""
# Events changed (re-clustered, or new) since $since.
EVENTS_CHANGED_SINCE = "SELECT id FROM events WHERE updated_at >= $since ORDER BY id"

# The warehouse file of a connection (raw pages live beside it).
DATABASE_PATH = "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"

# --- source health (0017; the view is in views.sql) ---------------------------------------

UPSERT_SOURCE_RUNS = """
INSERT INTO source_runs (run_id, source, run_at, status, reason, documents, documents_failed,
                         document_errors, pages, pages_failed, page_errors, entries_seen,
                         entries_new, entry_times, entry_gaps)
SELECT run_id, source, run_at, status, reason, documents, documents_failed, document_errors,
       pages, pages_failed, page_errors, entries_seen, entries_new, entry_times, entry_gaps
FROM batch
ON CONFLICT (run_id, source) DO UPDATE SET
    run_at = excluded.run_at, status = excluded.status, reason = excluded.reason,
    documents = excluded.documents, documents_failed = excluded.documents_failed,
    document_errors = excluded.document_errors, pages = excluded.pages,
    pages_failed = excluded.pages_failed, page_errors = excluded.page_errors,
    entries_seen = excluded.entries_seen, entries_new = excluded.entries_new,
    entry_times = excluded.entry_times, entry_gaps = excluded.entry_gaps
"""

# The sources in `batch` (name, latest: their new entries' latest date) saw them at $at.
MARK_NEW_ENTRIES = """
UPDATE sources SET last_new_entry_at = greatest(sources.last_new_entry_at, $at),
                   latest_entry_at = greatest(sources.latest_entry_at, b.latest)
FROM batch AS b
WHERE sources.name = b.name
"""

LATEST_ENTRY_AT = """
SELECT name, latest_entry_at FROM sources
WHERE list_contains($names, name) AND latest_entry_at IS NOT NULL
"""

# The view's rows of the sources in $names (all of them when $all_sources).
SOURCE_HEALTH = """
SELECT * FROM source_health WHERE $all_sources OR list_contains($names, source)
"""

HAS_SOURCE_HEALTH = "SELECT count(*) > 0 FROM duckdb_views() WHERE view_name = 'source_health'"

# The latest health change notified for each source in $names.
NOTIFIED_STATES = """
SELECT source, arg_max(state, run_at) AS state FROM source_transitions
WHERE list_contains($names, source)
GROUP BY source
"""

INSERT_TRANSITIONS = """
INSERT INTO source_transitions (source, run_id, run_at, state, previous, detail)
SELECT source, run_id, run_at, state, previous, detail FROM batch
ON CONFLICT DO NOTHING
"""

# Applied to a connection before running a user's query (`newsmon sql`); cannot be undone
# by that query.
NO_EXTERNAL_ACCESS = "SET enable_external_access = false"
SET_MEMORY_LIMIT = "SET memory_limit = {limit}"  # a quoted literal (SET takes no parameter)

# Write the write-ahead log into the file now (and fail loudly, e.g. on a full disk); the end
# of a monitor run (flows/run_store.py)
CHECKPOINT = "CHECKPOINT"
