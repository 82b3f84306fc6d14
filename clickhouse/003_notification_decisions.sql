-- Every routing and delivery decision about a notification, with its reason, so that
-- "why did user U not get notification N?" has an answer. One row per decision; a
-- notification has several (routed, then delivered or retried, …).
CREATE TABLE IF NOT EXISTS notification_decisions
(
    project LowCardinality(String),
    user_id String,
    notification_id String,
    rule LowCardinality(String),
    category LowCardinality(String),
    dedup_key String,
    channel LowCardinality(String),
    outcome LowCardinality(String),
    reason String,
    attempt UInt16,
    ts DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (project, user_id, ts, notification_id)
TTL toDateTime(ts) + toIntervalDay(180)
SETTINGS non_replicated_deduplication_window = 10000;
