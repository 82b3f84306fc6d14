-- Final results of metric-stream windows (early updates are live only).
-- A late event within the allowed lateness re-emits a window with a higher rev; the
-- ReplacingMergeTree keeps the highest rev per (project, stream, start, key), and reads use
-- FINAL so they never see two revisions.
CREATE TABLE IF NOT EXISTS stream_windows
(
    project LowCardinality(String),
    stream LowCardinality(String),
    key String,
    start DateTime64(3, 'UTC'),
    end DateTime64(3, 'UTC'),
    rev UInt32,
    values String CODEC(ZSTD(1)),
    emitted_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(rev)
PARTITION BY toYYYYMM(start)
ORDER BY (project, stream, start, key)
SETTINGS non_replicated_deduplication_window = 10000;
