-- Raw events, one row per accepted event.
-- Daily partitions so retention drops whole parts; the sort key serves per-project,
-- per-type time-range queries. `ts` is the event time corrected for client clock skew,
-- `client_ts` the time the client sent. received_at has a minmax index because the
-- de-duplication warm-up at start reads the ids received in the last window.
-- non_replicated_deduplication_window lets a replayed batch (same
-- insert_deduplication_token) be stored once.
CREATE TABLE IF NOT EXISTS events
(
    project LowCardinality(String),
    type LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    client_ts DateTime64(3, 'UTC'),
    sent_at Nullable(DateTime64(3, 'UTC')),
    received_at DateTime64(3, 'UTC'),
    id String,
    user_id String,
    anonymous_id String,
    session_id String,
    props String CODEC(ZSTD(1)),
    INDEX received_at_idx received_at TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, type, ts, id)
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1;
