-- newsmon warehouse: the full current schema, for reading.
--
-- The migrations in migrations/ are what actually builds a warehouse (applied in order by
-- the first writer open in each process, recorded in schema_version). This file is what they
-- add up to, written out once with comments; tests/test_warehouse.py checks that applying it to an
-- empty database gives exactly the same tables, columns, types and keys as the migrations.
-- When you add a migration to these tables, update this file in the same change.
-- Tables other modules add with their own migrations (0010_alerts.sql: alerts,
-- alert_deliveries) are documented in those files and not repeated here.
--
-- Conventions: ids are stable text hashes chosen by the caller (article id = hash of the
-- canonical URL), so re-runs upsert instead of duplicating; all times are TIMESTAMPTZ (UTC);
-- multi-valued facets are lists.

-- Which migrations have been applied to this file.
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,          -- the 4-digit prefix of the migration file
    name VARCHAR NOT NULL,                -- file name without .sql
    applied_at TIMESTAMPTZ NOT NULL
);

-- One row per configured outlet (from sources.toml).
CREATE TABLE sources (
    name VARCHAR PRIMARY KEY,
    feeds VARCHAR[],                      -- RSS/Atom feed URLs
    sitemaps VARCHAR[],                   -- news sitemap URLs
    urls VARCHAR[],                       -- fixed article/list URLs
    language VARCHAR,                     -- expected language (ISO 639-1), if configured
    country VARCHAR,                      -- ISO 3166-1 alpha-2, if configured
    first_seen TIMESTAMPTZ,               -- when the outlet was first configured
    last_success_at TIMESTAMPTZ,          -- last run in which the outlet fetched without errors
    last_new_entry_at TIMESTAMPTZ,        -- last run that saw a new entry of it; added in 0017
    latest_entry_at TIMESTAMPTZ           -- the latest date of its entries; added in 0017
);

-- One row per pipeline run (a Prefect flow run, or a CLI run).
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    flow_run_id VARCHAR,                  -- Prefect flow run id, if run under Prefect
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,              -- NULL while running (or if the run died)
    status VARCHAR,                       -- 'running', then 'completed', 'partial' (some
                                          -- sources failed) or 'failed' (#29, flows/monitor.py);
                                          -- 'abandoned' when it died and a later run found it running
    parameters JSON,
    counts JSON                           -- e.g. {"pages_fetched": 120, "articles_new": 97, ...}
                                          -- (a failed or abandoned run: what it committed)
);

-- One row per URL fetched in a run: the outcome of its last attempt.
CREATE TABLE fetch_log (
    run_id VARCHAR,
    url VARCHAR,
    source VARCHAR,
    status_code INTEGER,                  -- NULL when no response arrived
    error_class VARCHAR,                  -- e.g. 'Timeout', 'HTTPStatus'; NULL on success
    error VARCHAR,
    n_bytes BIGINT,
    elapsed_ms DOUBLE,
    attempt INTEGER,                      -- attempts made, 1 = first try worked
    fetched_at TIMESTAMPTZ,
    kind VARCHAR DEFAULT 'page',          -- 'page' or 'document' (feed, sitemap); added in 0003
    PRIMARY KEY (run_id, url)             -- a retried run does not duplicate rows
);

-- HTTP validators for conditional GETs of feeds and sitemaps, stored only once every entry
-- of the document is stored or recorded (extractors/fetch/ledger.py).
CREATE TABLE validators (
    url VARCHAR PRIMARY KEY,
    etag VARCHAR,
    last_modified VARCHAR,                -- the header value as received
    updated_at TIMESTAMPTZ,
    listed_lastmod TIMESTAMPTZ            -- a child sitemap's lastmod in its index when it was
                                          -- last read in full and handled; added in 0013
);

-- The newest raw response per URL, so extraction can be re-run without refetching. The HTML
-- is in per-day Parquet files beside the warehouse (warehouse/raw_store.py).
CREATE TABLE raw_pages (
    url VARCHAR PRIMARY KEY,
    source VARCHAR,
    final_url VARCHAR,                    -- after redirects
    status_code INTEGER,
    fetched_at TIMESTAMPTZ,
    content_type VARCHAR,
    n_bytes BIGINT,                       -- length of the UTF-8 HTML before compression
    html_zstd BLOB,                       -- zstd-compressed UTF-8 HTML (pages stored before 0018)
    file VARCHAR                          -- the Parquet file beside the warehouse holding the
                                          -- HTML: <warehouse>.raw/<file>; added in 0018
);

-- What extraction made of each fetched page, per run.
CREATE TABLE extraction_log (
    url VARCHAR,
    run_id VARCHAR,
    source VARCHAR,
    status VARCHAR,                       -- 'extracted' | 'skipped' | 'failed'
    reason VARCHAR,                       -- why skipped or failed ('too_slow (...)': past its
                                          -- CPU budget); for an extracted page, a note
                                          -- ('canonical not adopted: URL')
    article_id VARCHAR,                   -- the article it produced, if extracted
    logged_at TIMESTAMPTZ,
    PRIMARY KEY (url, run_id)
);

-- One row per article (per canonical URL).
CREATE TABLE articles (
    id VARCHAR PRIMARY KEY,               -- hash of canonical_url
    canonical_url VARCHAR UNIQUE,
    url VARCHAR,                          -- the URL it was last fetched from
    urls VARCHAR[],                       -- every URL it was reached by, first first
    source VARCHAR,
    title VARCHAR,
    author VARCHAR,
    published_at TIMESTAMPTZ,
    date_source VARCHAR,                  -- where published_at came from (meta, feed, url...)
    language VARCHAR,
    site_name VARCHAR,
    description VARCHAR,
    text VARCHAR,                         -- cleaned article text
    content_hash VARCHAR,                 -- extractors.content.text.content_hash(text)
    fetched_at TIMESTAMPTZ,               -- first fetch
    run_id VARCHAR,                       -- first run that stored it
    actors VARCHAR[],                     -- facets, most prominent first
    places VARCHAR[],
    event_date DATE,
    dates DATE[],
    keywords VARCHAR[],
    tags VARCHAR[],                       -- the page's categories/tags; added in 0004
    -- added in 0011: the main answers, next to the mention lists above
    who STRUCT(name VARCHAR, type VARCHAR)[], -- main actors, best first; type is 'person',
                                          -- 'organisation', 'country' or 'unnamed'
    where_name VARCHAR,                   -- main place of the story
    where_country VARCHAR,                -- its ISO 3166-1 alpha-2 code
    where_lat DOUBLE,                     -- its position (NULL for some provinces)
    where_lon DOUBLE,
    where_id VARCHAR,                     -- gazetteer id, e.g. 'geonames:2800866'
    updated_at TIMESTAMPTZ,               -- when a changed version replaced it; added in 0013
    -- added in 0015: the evidence of the facts
    where_confidence DOUBLE,              -- 0-1, how sure the main place is
    when_source VARCHAR                   -- what event_date rests on: 'dateline', 'text' or
                                          -- 'published' (no evidence: the publication day)
);

-- Articles that repeat another one.
CREATE TABLE duplicates (
    article_id VARCHAR PRIMARY KEY,
    duplicate_of VARCHAR,                 -- the original it repeats
    kind VARCHAR,                         -- 'same-url' | 'same-text' | 'near-copy'
    score DOUBLE
);

-- Real-world happenings, each reported by one or more articles.
CREATE TABLE events (
    id VARCHAR PRIMARY KEY,
    headline VARCHAR,
    event_date DATE,
    first_seen TIMESTAMPTZ,
    last_seen TIMESTAMPTZ,
    actors VARCHAR[],
    places VARCHAR[],
    keywords VARCHAR[],
    n_articles INTEGER,
    n_sources INTEGER,                    -- distinct outlets among original reports
    n_copies INTEGER,                     -- copies attached to the event, counted apart
    updated_at TIMESTAMPTZ,
    -- added in 0011: the record the event's articles agree on (extractors/events/records.py);
    -- event_date above is its "when", headline its best report's headline
    who STRUCT(name VARCHAR, type VARCHAR)[], -- main actors, best first
    where_name VARCHAR,                   -- main place, geocoded as in articles
    where_country VARCHAR,
    where_lat DOUBLE,
    where_lon DOUBLE,
    where_id VARCHAR,
    actor_keys VARCHAR[],                 -- actor_key() of who and of every actor mentioned
    story_id VARCHAR,                     -- the story thread it belongs to; added in 0012
    terms MAP(VARCHAR, DOUBLE),           -- heaviest word stems and weights; added in 0012
    where_confidence DOUBLE,              -- added in 0015: the vote for the place, weighed by
                                          -- its reports' confidence
    when_source VARCHAR,                  -- the strongest evidence of event_date among them
    languages VARCHAR[]                   -- languages of its articles, most used first; 0019
);

-- Which event each article belongs to (at most one) and why.
CREATE TABLE event_articles (
    article_id VARCHAR PRIMARY KEY,
    event_id VARCHAR,
    score DOUBLE,
    features MAP(VARCHAR, DOUBLE)         -- the similarity features behind the score
);

-- Every scored pair of articles of a clustering window (added in 0019): the decision, the
-- score against its bar, the scorer ("words" or "crosslingual") and, as JSON, what matched:
-- names, places, dates, figures and the scorer's features. See the pair_evidence view.
CREATE TABLE event_links (
    article_id VARCHAR,
    other_id VARCHAR,
    same_event BOOLEAN,                   -- the two ended in one event
    score DOUBLE,
    threshold DOUBLE,
    scorer VARCHAR,
    evidence VARCHAR,                     -- JSON
    run_id VARCHAR,
    PRIMARY KEY (article_id, other_id)
);

-- Events folded into others by re-clustering (added in 0002).
CREATE TABLE event_merges (
    from_event_id VARCHAR,
    into_event_id VARCHAR,
    merged_at TIMESTAMPTZ,
    run_id VARCHAR,
    PRIMARY KEY (from_event_id, into_event_id, run_id)
);

-- The coverage ledger (added in 0013): one row per entry a feed, sitemap or URL list offered,
-- by identity, and what became of it. See extractors/fetch/ledger.py and docs/warehouse.md.
CREATE TABLE entries (
    source VARCHAR NOT NULL,
    url VARCHAR NOT NULL,                 -- canonical URL of the entry
    guid VARCHAR,                         -- the feed's id for it, when not just the link
    via VARCHAR,                          -- 'feed' | 'sitemap' | 'list'
    title VARCHAR,
    published_at TIMESTAMPTZ,             -- as the feed/sitemap dates it (may be late or back-dated)
    updated TIMESTAMPTZ,                  -- latest feed <updated> / sitemap <lastmod> seen
    stored_updated TIMESTAMPTZ,           -- `updated` of the version stored: moves on refetch
    outcome VARCHAR NOT NULL,             -- 'stored' | 'failed' | 'skipped' | 'pending'
    reason VARCHAR,                       -- e.g. 'HTTP 404', 'before --since', 'retry: ...'
    first_seen_at TIMESTAMPTZ NOT NULL,   -- its coverage day is this one's (UTC) date
    last_seen_at TIMESTAMPTZ NOT NULL,
    first_run_id VARCHAR,
    last_run_id VARCHAR,
    refetched_at TIMESTAMPTZ,             -- when an update of it was last fetched
    PRIMARY KEY (source, url)
);

-- Feeds (and sitemaps) read before whose every entry was new: entries may have been missed;
-- and documents listing more new entries than one run fetches (`deferred` > 0, added in 0016).
CREATE TABLE overflows (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    url VARCHAR NOT NULL,                 -- the document
    kind VARCHAR,                         -- 'feed' | 'sitemap'
    n_entries INTEGER,
    last_read_at TIMESTAMPTZ,             -- the earlier read
    read_at TIMESTAMPTZ NOT NULL,
    fallback VARCHAR,                     -- 'sitemaps' (read again in full) | 'none'
    message VARCHAR,                      -- what the run summary said
    deferred INTEGER DEFAULT 0,           -- new entries left for the next runs (the per-run
                                          -- cap, NEWSMON_MAX_NEW_ENTRIES_PER_DOCUMENT); 0016
    PRIMARY KEY (run_id, url)
);

-- Earlier versions of updated articles; the newest version is the `articles` row.
CREATE TABLE article_versions (
    article_id VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    title VARCHAR,
    text VARCHAR,
    published_at TIMESTAMPTZ,
    fetched_at TIMESTAMPTZ,               -- when this version was fetched
    replaced_at TIMESTAMPTZ,
    replaced_by_run VARCHAR,
    PRIMARY KEY (article_id, content_hash)
);

-- Story threads: events of one developing story, over days or weeks (added in 0012).
CREATE TABLE stories (
    id VARCHAR PRIMARY KEY,
    title VARCHAR,                        -- the headline of its biggest event
    first_seen TIMESTAMPTZ,
    last_seen TIMESTAMPTZ,
    n_events INTEGER,
    n_articles INTEGER,
    actors VARCHAR[],                     -- the names most of its articles carry
    places VARCHAR[],
    updated_at TIMESTAMPTZ
);

-- robots.txt answers per host (scheme://host[:port]), reused until they expire, at most 24 h
-- after they were fetched (added in 0014). `rules` NULL: the host has none (allow all).
CREATE TABLE robots (
    host VARCHAR PRIMARY KEY,
    fetched_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    status_code INTEGER,
    rules VARCHAR
);

-- Source health (added in 0017): how each source fared in every run (extractors/fetch/health.py),
-- read by the `source_health` view (views.sql, docs/warehouse.md).
CREATE TABLE source_runs (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,          -- the run's start
    status VARCHAR NOT NULL,              -- 'ok' | 'degraded' | 'failed'
    reason VARCHAR,                       -- one line: what failed, with an example (NULL if ok)
    documents INTEGER NOT NULL,           -- feed and sitemap fetches (sitemap children too)
    documents_failed INTEGER NOT NULL,
    document_errors MAP(VARCHAR, INTEGER),  -- reason -> documents, e.g. {'HTTP 500': 2}
    pages INTEGER NOT NULL,               -- article page fetches
    pages_failed INTEGER NOT NULL,
    page_errors MAP(VARCHAR, INTEGER),
    entries_seen INTEGER NOT NULL,        -- distinct entries its documents and URL list offered
    entries_new INTEGER NOT NULL,         -- of which the warehouse knew nothing before
    entry_times TIMESTAMPTZ[],            -- each new entry's date (never later than run_at)
    entry_gaps DOUBLE[],                  -- seconds from the source's latest entry before to the
                                          -- first later one of this run, and between those
    PRIMARY KEY (run_id, source)
);

-- Every change of a source's health that was notified (each fires one alert, rule
-- 'source-health'): it turned failing or quiet, or it recovered.
CREATE TABLE source_transitions (
    source VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,          -- the run's start
    state VARCHAR NOT NULL,               -- 'failing' | 'quiet' | 'recovered'
    previous VARCHAR,                     -- 'failing' | 'quiet', or NULL (healthy or new)
    detail VARCHAR,                       -- what `newsmon sources` said of it then
    PRIMARY KEY (source, run_id)
);
