-- 0017: source health (#29). How each source fared in every run, when newsmon last saw a new
-- entry of it, and the health changes it notified (each once). The `source_health` view
-- (views.sql) reads these; the rules are in extractors/fetch/health.py and docs/warehouse.md.

-- One row per run and configured source.
CREATE TABLE source_runs (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,          -- the run's start
    status VARCHAR NOT NULL,              -- ok | degraded | failed
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

-- The latest run that saw a new entry of the source, and the latest date of its entries
-- (both move forward only).
ALTER TABLE sources ADD COLUMN last_new_entry_at TIMESTAMPTZ;
ALTER TABLE sources ADD COLUMN latest_entry_at TIMESTAMPTZ;

-- Every change of a source's health that was notified: it turned failing or quiet, or it
-- recovered. One alert per row (alerts.rule = 'source-health'), so each change fires once.
CREATE TABLE source_transitions (
    source VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,          -- the run's start
    state VARCHAR NOT NULL,               -- failing | quiet | recovered
    previous VARCHAR,                     -- failing | quiet, or NULL (it was healthy or new)
    detail VARCHAR,                       -- what `newsmon sources` said of it then
    PRIMARY KEY (source, run_id)
);
