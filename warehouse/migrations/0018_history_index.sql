-- 0018: a year of history costs what today's news costs (#32).
--
-- The cluster index: what incremental clustering (extractors/events/incremental.py) matches a
-- run's articles against, so no run re-reads or re-tokenises stored texts. Derived data,
-- written only by warehouse/cluster_index.py in the clustering transaction of each run; the
-- tables carry no keys (the single writer keeps them consistent, and keys would cost an index
-- the size of the table). `seq` numbers indexed articles in order of arrival.

-- One row per indexed article: its features (extractors/events/features.py), which never
-- change once made, and what dedup and grouping decided for it.
CREATE TABLE cluster_articles (
    seq BIGINT NOT NULL,
    article_id VARCHAR NOT NULL,
    content_hash VARCHAR,
    n_words INTEGER,                      -- word count of the text (copies need 6)
    sketch UINTEGER[],                    -- bottom-8 hashes of its 4-word shingles
    role VARCHAR NOT NULL,                -- 'original' | 'same-text' | 'near-copy'
    copy_of BIGINT,                       -- seq of the article it copies
    copy_score DOUBLE,
    comp BIGINT,                          -- linking component (originals)
    time DOUBLE,                          -- published, else fetched: days since 1970 (NaN unknown)
    event_day DOUBLE,                     -- event date, days since 1970 (NaN unknown)
    stated BOOLEAN,
    by_fetch BOOLEAN,
    title VARCHAR[],                      -- headline stems
    summary VARCHAR[],
    lead VARCHAR,
    n_body INTEGER,
    terms VARCHAR[],                      -- TF-IDF terms, heaviest first
    weights FLOAT[],                      -- their unit weights, fixed when indexed
    actors VARCHAR[],
    places VARCHAR[],
    all_places VARCHAR[],
    cities VARCHAR[],                     -- cities among places, and their countries
    countries VARCHAR[],
    names VARCHAR[],
    name_weights DOUBLE[],
    indexed_at TIMESTAMPTZ,
    -- What the cross-lingual scorer (#27) blocks by: the language and the blocking keys
    -- (names, places, figures, rarest word stems; extractors/events/crosslingual.py), fixed
    -- when indexed. Their postings share cluster_event_keys (prefixed '~', hashed); the
    -- stems' document frequencies are cluster_term_days rows of kind 'stem'.
    language VARCHAR,
    xl_keys VARCHAR[]
);

-- Blocking postings: which articles hold a key, at which time (unknown times are 'inf').
-- Copy keys are shingle hashes; event keys ('t:' headline stem, 'x:' term, 'a:' actor, 'p:'
-- place) are stored as 64-bit BLAKE2b hashes of the key (cluster_index.key_hash): scans of
-- integers cost a fraction of scans of strings.
CREATE TABLE cluster_copy_keys (key UINTEGER NOT NULL, t DOUBLE NOT NULL, seq BIGINT NOT NULL);
CREATE TABLE cluster_event_keys (key UBIGINT NOT NULL, t DOUBLE NOT NULL, seq BIGINT NOT NULL);

-- Copy pairs (rapidfuzz ratio of the normalised openings >= copy_threshold) and event edges
-- (pair score >= event_threshold - average_floor), between seqs.
CREATE TABLE cluster_copy_pairs (a BIGINT NOT NULL, b BIGINT NOT NULL, score DOUBLE);
CREATE TABLE cluster_edges (
    a BIGINT NOT NULL,                    -- the end with the smaller article id
    b BIGINT NOT NULL,
    score DOUBLE,
    features MAP(VARCHAR, DOUBLE)
);

-- Document frequencies per day of arrival (originals): what a new article's term and name
-- weights are taken from (the last NEWSMON_CLUSTER_WINDOW_DAYS days and the run's own).
CREATE TABLE cluster_term_days (
    day DATE NOT NULL,
    kind VARCHAR NOT NULL,                -- 'term' | 'name' | 'stem' | 'docs' (term '' holds the count)
    term VARCHAR NOT NULL,
    docs INTEGER NOT NULL
);

-- Raw HTML moves out of the DuckDB file into per-day Parquet files beside it
-- (<warehouse>.raw/day=YYYY-MM-DD/*.parquet; warehouse/raw_store.py): a checkpoint then never
-- rewrites stored pages. `file` names the file relative to that folder; `html_zstd` stays for
-- pages stored before, and is NULL for new ones.
ALTER TABLE raw_pages ADD COLUMN file VARCHAR;

-- Where incremental work resumes: one row per task ('cluster-index': articles fetched before
-- `handled_until` were offered to clustering; 'alerts:<rules>': events changed before it were matched).
CREATE TABLE watermarks (
    name VARCHAR PRIMARY KEY,
    handled_until TIMESTAMPTZ,
    state JSON
);

-- A warehouse from before this migration: the next run indexes the articles of the last week
-- (older ones keep their events; new articles are not matched against them).
INSERT INTO watermarks VALUES ('cluster-index', now() - INTERVAL 7 DAY, NULL);
