-- 0014: robots.txt answers per host, so a daily run does not ask every host again first.
-- `host` is scheme://host[:port]. `rules` is the robots.txt text (NULL: the host has none,
-- e.g. a 404, which allows everything). An answer is used until `expires_at`, at most 24 h
-- after it was fetched (RFC 9309, 2.4). Failed fetches are not kept: the next run asks again.

CREATE TABLE robots (
    host VARCHAR PRIMARY KEY,
    fetched_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    status_code INTEGER,
    rules VARCHAR
);
