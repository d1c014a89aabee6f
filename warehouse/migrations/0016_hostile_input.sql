-- Issue #28 (hostile input): a document listing more new entries than one run fetches
-- (NEWSMON_MAX_NEW_ENTRIES_PER_DOCUMENT) is recorded as an overflow saying how many of its
-- entries were left, pending in the ledger, for the next runs.
ALTER TABLE overflows ADD COLUMN deferred INTEGER DEFAULT 0;
