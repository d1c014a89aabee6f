"""SQL of the cluster index (migration 0018; warehouse/cluster_index.py), as named constants.

Batches arrive as registered Arrow tables: `ids` (column seq), `keys` (key), `ranges` (key, lo,
hi), `spans` (key, t1, s1, t2, s2), `batch` (rows to write). Values are bound, never pasted.
"""

from __future__ import annotations

ENTRY_COLUMNS = """seq, article_id, content_hash, n_words, sketch, role, copy_of, copy_score, comp,
    time, event_day, stated, by_fetch, title, summary, lead, n_body, terms, weights, actors,
    places, all_places, cities, countries, names, name_weights, language, xl_keys"""

_ENTRIES = f"SELECT {ENTRY_COLUMNS} FROM cluster_articles"

# The bounds let the scan skip row groups (seqs are in arrival order): a run reads mostly
# the recent days' entries.
ENTRIES_BY_SEQ = _ENTRIES + " WHERE seq >= $lo AND seq <= $hi AND seq = ANY($seqs)"
# The articles of these seqs, narrow (the copy check's openings read only the texts).
IDS_BY_SEQ = """
SELECT seq, article_id FROM cluster_articles WHERE seq >= $lo AND seq <= $hi AND seq = ANY($seqs)
"""
# Entries by a short list of seqs ({seqs}: bound parameters): found through the seq index
# (migration 0020), for seqs scattered over the year.
ENTRIES_IN_LIST = _ENTRIES + " WHERE seq IN ({seqs})"
# Which seqs index these articles: a narrow scan (new articles, mostly: none).
SEQS_OF_ARTICLES = """
SELECT seq FROM cluster_articles WHERE article_id IN (SELECT id FROM article_ids)
"""
# Entries found by a joined table are found narrow first (the seqs: a scan of one or two
# columns), then read by ENTRIES_BY_SEQ: a join would read every wide feature column of a
# year's index (8 s against 0.5 s at 1M entries).
SEQS_BY_HASH = "SELECT seq FROM cluster_articles WHERE content_hash IN (SELECT key FROM keys)"
SEQS_COPYING = "SELECT seq FROM cluster_articles WHERE copy_of IN (SELECT seq FROM ids)"
COMPONENT_MEMBERS = """
SELECT seq FROM cluster_articles WHERE role = 'original' AND comp IN (SELECT seq FROM ids)
"""

NEXT_SEQ = "SELECT coalesce(max(seq) + 1, 0) FROM cluster_articles"

# Postings per family (the table name comes from a fixed map in cluster_index.py).
KEY_STATS = """
SELECT key, count(*) AS n, min(t) AS lo, max(t) AS hi FROM {table}
WHERE key IN (SELECT key FROM keys) GROUP BY key
"""
POSTINGS_IN_RANGES = """
SELECT p.key, p.t, p.seq FROM {table} AS p
JOIN ranges AS r ON p.key = r.key AND p.t >= r.lo AND p.t <= r.hi
WHERE p.t >= $lowest
"""
# Postings of a key strictly between two positions (t, seq) of it.
POSTINGS_BETWEEN = """
SELECT s.key, s.t1, s.s1, s.t2, s.s2, count(p.seq) AS n
FROM spans AS s LEFT JOIN {table} AS p ON p.key = s.key
  AND (p.t > s.t1 OR (p.t = s.t1 AND p.seq > s.s1))
  AND (p.t < s.t2 OR (p.t = s.t2 AND p.seq < s.s2))
GROUP BY ALL
"""
INSERT_POSTINGS = "INSERT INTO {table} (key, t, seq) SELECT key, t, seq FROM batch"
DELETE_POSTINGS_OF = "DELETE FROM {table} WHERE seq IN (SELECT seq FROM ids)"

COPY_PAIRS_TOUCHING = """
SELECT a, b, score FROM cluster_copy_pairs
WHERE a IN (SELECT seq FROM ids) OR b IN (SELECT seq FROM ids)
"""
EDGES_TOUCHING = """
SELECT a, b, score, features FROM cluster_edges
WHERE a IN (SELECT seq FROM ids) OR b IN (SELECT seq FROM ids)
"""
DELETE_COPY_PAIRS = """
DELETE FROM cluster_copy_pairs WHERE (a, b) IN (SELECT (a, b) FROM batch)
"""
INSERT_COPY_PAIRS = "INSERT INTO cluster_copy_pairs (a, b, score) SELECT a, b, score FROM batch"
DELETE_EDGES = "DELETE FROM cluster_edges WHERE (a, b) IN (SELECT (a, b) FROM batch)"
INSERT_EDGES = """
INSERT INTO cluster_edges (a, b, score, features) SELECT a, b, score, features FROM batch
"""

INSERT_ENTRIES = f"""
INSERT INTO cluster_articles ({ENTRY_COLUMNS}, indexed_at)
SELECT {ENTRY_COLUMNS}, now() FROM batch
"""
DELETE_ENTRIES = "DELETE FROM cluster_articles WHERE seq IN (SELECT seq FROM ids)"
UPDATE_DECISIONS = """
UPDATE cluster_articles AS c
SET role = b.role, copy_of = b.copy_of, copy_score = b.copy_score, comp = b.comp
FROM batch AS b WHERE c.seq = b.seq
"""

# Document frequencies of the recent days (kind 'docs' counts documents under term '').
WINDOW_STATS = """
SELECT kind, term, sum(docs)::BIGINT AS docs FROM cluster_term_days
WHERE day >= $since AND (kind = 'docs' OR term IN (SELECT key FROM keys))
GROUP BY kind, term
"""
INSERT_TERM_DAYS = """
INSERT INTO cluster_term_days (day, kind, term, docs) SELECT day, kind, term, docs FROM batch
"""
PRUNE_TERM_DAYS = "DELETE FROM cluster_term_days WHERE day < $before"

# Stored articles the index does not hold as they are (absent, or indexed with other text):
# the given ones (`article_ids`) and any fetched or changed since $since (a stopped run's).
UNINDEXED_ARTICLES = """
WITH wanted AS (
    SELECT id, content_hash FROM articles
    WHERE id IN (SELECT id FROM article_ids) OR fetched_at >= $since OR updated_at >= $since
)
SELECT w.id FROM wanted AS w
WHERE NOT EXISTS (
    SELECT 1 FROM cluster_articles AS c
    WHERE c.article_id = w.id AND c.content_hash IS NOT DISTINCT FROM w.content_hash
)
ORDER BY w.id
"""


EVENTS_OF_ARTICLES = """
SELECT article_id, event_id FROM event_articles WHERE article_id IN (SELECT id FROM article_ids)
"""
