-- 0003: tell page fetches from feed/sitemap fetches in fetch_log, so a failed page can be
-- queued for retry by the next run while documents are simply re-read by discovery.

ALTER TABLE fetch_log ADD COLUMN kind VARCHAR DEFAULT 'page';
