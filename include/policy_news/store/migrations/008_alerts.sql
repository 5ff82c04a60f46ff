-- Alerting bookkeeping (see docs/operations-alerts.md and policy_news/alerts/).
-- One message per condition per day: a condition already in alerts_sent for today is
-- not sent again; tomorrow it is, if it still holds.
CREATE TABLE alerts_sent (
    condition_key VARCHAR NOT NULL,
    day DATE NOT NULL,
    first_sent_at TIMESTAMPTZ NOT NULL,
    message VARCHAR NOT NULL,
    PRIMARY KEY (condition_key, day)
);

-- Each feed's health (the feed_health view's status) as of the last alert check, so a
-- check can tell a feed that just became failing, silent or auto-disabled from one that
-- already was.
CREATE TABLE feed_health_seen (
    feed_name VARCHAR PRIMARY KEY,
    health VARCHAR NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL
);
