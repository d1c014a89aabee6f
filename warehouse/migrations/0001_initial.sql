-- 0001: the first warehouse schema. Never edit after release: add 0002_*.sql instead.
-- Ids are stable text hashes chosen by the caller (article id = hash of canonical URL), so a
-- re-run upserts the same rows instead of adding new ones.

CREATE TABLE sources (
    name VARCHAR PRIMARY KEY,
    feeds VARCHAR[],
    sitemaps VARCHAR[],
    urls VARCHAR[],
    language VARCHAR,
    country VARCHAR,
    first_seen TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ
);

CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    flow_run_id VARCHAR,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    status VARCHAR,
    parameters JSON,
    counts JSON
);

CREATE TABLE fetch_log (
    run_id VARCHAR,
    url VARCHAR,
    source VARCHAR,
    status_code INTEGER,
    error_class VARCHAR,
    error VARCHAR,
    n_bytes BIGINT,
    elapsed_ms DOUBLE,
    attempt INTEGER,
    fetched_at TIMESTAMPTZ,
    PRIMARY KEY (run_id, url)
);

CREATE TABLE validators (
    url VARCHAR PRIMARY KEY,
    etag VARCHAR,
    last_modified VARCHAR,
    updated_at TIMESTAMPTZ
);

CREATE TABLE raw_pages (
    url VARCHAR PRIMARY KEY,
    source VARCHAR,
    final_url VARCHAR,
    status_code INTEGER,
    fetched_at TIMESTAMPTZ,
    content_type VARCHAR,
    n_bytes BIGINT,
    html_zstd BLOB
);

CREATE TABLE extraction_log (
    url VARCHAR,
    run_id VARCHAR,
    source VARCHAR,
    status VARCHAR,
    reason VARCHAR,
    article_id VARCHAR,
    logged_at TIMESTAMPTZ,
    PRIMARY KEY (url, run_id)
);

CREATE TABLE articles (
    id VARCHAR PRIMARY KEY,
    canonical_url VARCHAR UNIQUE,
    url VARCHAR,
    urls VARCHAR[],
    source VARCHAR,
    title VARCHAR,
    author VARCHAR,
    published_at TIMESTAMPTZ,
    date_source VARCHAR,
    language VARCHAR,
    site_name VARCHAR,
    description VARCHAR,
    text VARCHAR,
    content_hash VARCHAR,
    fetched_at TIMESTAMPTZ,
    run_id VARCHAR,
    actors VARCHAR[],
    places VARCHAR[],
    event_date DATE,
    dates DATE[],
    keywords VARCHAR[]
);

CREATE TABLE duplicates (
    article_id VARCHAR PRIMARY KEY,
    duplicate_of VARCHAR,
    kind VARCHAR,
    score DOUBLE
);

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
    n_sources INTEGER,
    n_copies INTEGER,
    updated_at TIMESTAMPTZ
);

CREATE TABLE event_articles (
    article_id VARCHAR PRIMARY KEY,
    event_id VARCHAR,
    score DOUBLE,
    features MAP(VARCHAR, DOUBLE)
);
