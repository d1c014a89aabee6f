-- 0013: never lose an article (#17). The coverage ledger: every entry a feed, sitemap or URL
-- list offered, by identity, with what became of it; the feeds that overflowed between two
-- reads; and the earlier versions of articles that were updated.

-- One row per entry a source offered (key: source and canonical URL). `outcome` is what
-- became of it: stored | failed | skipped | pending, `reason` says why (see
-- extractors/fetch/ledger.py). Rewritten by every run that sees or fetches the entry.
CREATE TABLE entries (
    source VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    guid VARCHAR,
    via VARCHAR,
    title VARCHAR,
    published_at TIMESTAMPTZ,
    updated TIMESTAMPTZ,
    stored_updated TIMESTAMPTZ,
    outcome VARCHAR NOT NULL,
    reason VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    first_run_id VARCHAR,
    last_run_id VARCHAR,
    refetched_at TIMESTAMPTZ,
    PRIMARY KEY (source, url)
);

-- A document read before whose every entry was new: entries may have scrolled off it.
CREATE TABLE overflows (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    kind VARCHAR,
    n_entries INTEGER,
    last_read_at TIMESTAMPTZ,
    read_at TIMESTAMPTZ NOT NULL,
    fallback VARCHAR,
    message VARCHAR,
    PRIMARY KEY (run_id, url)
);

-- Versions of an article that a newer version replaced (the newest is in `articles`).
CREATE TABLE article_versions (
    article_id VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    title VARCHAR,
    text VARCHAR,
    published_at TIMESTAMPTZ,
    fetched_at TIMESTAMPTZ,
    replaced_at TIMESTAMPTZ,
    replaced_by_run VARCHAR,
    PRIMARY KEY (article_id, content_hash)
);

ALTER TABLE articles ADD COLUMN updated_at TIMESTAMPTZ;

-- The lastmod a sitemap index listed for a child sitemap whose entries were all handled: while
-- the index lists the same lastmod, the child is not fetched again.
ALTER TABLE validators ADD COLUMN listed_lastmod TIMESTAMPTZ;

-- Validators stored before this migration may belong to documents whose entries a `--since`
-- run skipped: forget them, so the next run reads every feed and sitemap once in full.
DELETE FROM validators;
