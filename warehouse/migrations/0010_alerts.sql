-- 0010: watchlist matches and their delivery. One alert per (rule, event): evaluating the
-- rules again after every load inserts with ON CONFLICT DO NOTHING, so nobody is told twice.
-- The headline and counts are copied at match time: the alert still reads well after the
-- event is re-clustered or merged away.

CREATE TABLE alerts (
    rule VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    matched_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR,
    why VARCHAR NOT NULL,
    headline VARCHAR,
    event_date DATE,
    n_sources INTEGER,
    PRIMARY KEY (rule, event_id)
);

-- One row per alert and notification URL. A failed delivery stays 'failed' and is retried
-- by the next delivery pass until it succeeds or reaches the attempt limit ('abandoned').
-- Notification URLs carry secrets (tokens, passwords): `url` is Apprise's redacted form and
-- `url_id` a hash of the full URL, which is how a configured URL finds its rows again.
CREATE TABLE alert_deliveries (
    rule VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    url_id VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    attempts INTEGER NOT NULL,
    first_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (rule, event_id, url_id)
);
