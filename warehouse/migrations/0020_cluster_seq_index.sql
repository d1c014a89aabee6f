-- 0020: index entries found by seq (#32). An update reads the index entries of the stored
-- neighbours its new articles meet in the postings: mostly the last days' (read by a range
-- scan), and a few scattered over the year (an old article sharing a rare key, a back-dated
-- one). A scan decompresses a vector of every wide column for each scattered row; this index
-- finds them one by one (warehouse/cluster_index.py: IndexReads.entries). Measured on the
-- 1M-article history: 9,500 entries, 1,500 of them older than the last 25k seqs, 4.2 s CPU
-- without it, 1.1 s with it; building it on 1M rows took 0.5 s.
-- DuckDB refuses ALTER TABLE on an indexed table: a later migration that changes
-- cluster_articles drops this index first and creates it again after.
CREATE INDEX cluster_articles_seq ON cluster_articles (seq);
