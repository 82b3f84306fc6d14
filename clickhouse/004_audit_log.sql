-- Every admin write (streams, rules, templates, keys, users' data) and every erase and export
-- of a user, so that "who changed this rule, and from what?" has an answer. `actor` names the
-- caller without its secret: `key:<key id>`, or `user:<pseudonym>` (a hash of project and
-- user id, so an erased user leaves no id here). `before_hash` and `after_hash` are SHA-256 of
-- the canonical JSON of the definition before and after ('' when there was none). Kept for
-- good: no TTL, an audit trail outlives the data it describes.
CREATE TABLE IF NOT EXISTS audit_log
(
    ts DateTime64(3, 'UTC'),
    project LowCardinality(String),
    actor String,
    action LowCardinality(String),
    target String,
    status UInt16,
    before_hash String,
    after_hash String,
    request_id String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (project, ts, request_id)
SETTINGS non_replicated_deduplication_window = 10000;
