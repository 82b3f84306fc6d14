-- Identity merges: which user an anonymous id became. Any event that carries both ids merges
-- them (an `identify` event, or the first tracked event after login); the first merge of an
-- anonymous id wins, so a shared device that later logs in as someone else does not move the
-- history. Kept as aggregate states filled by a materialized view on `events` (no second write
-- path, and each insert block collapses to one row per anonymous id), read with
-- `argMinMerge(user_id)` per project. The tie-break on `id` makes two merges in the same
-- millisecond resolve the same way on every read.
CREATE TABLE IF NOT EXISTS identities
(
    project LowCardinality(String),
    anonymous_id String,
    user_id AggregateFunction(argMin, String, Tuple(DateTime64(3, 'UTC'), String)),
    merged_at SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (project, anonymous_id);

-- The source columns are qualified: the aliases of the aggregate states shadow them otherwise.
CREATE MATERIALIZED VIEW IF NOT EXISTS identities_mv TO identities AS
SELECT
    e.project AS project,
    e.anonymous_id AS anonymous_id,
    argMinState(e.user_id, (e.ts, e.id)) AS user_id,
    min(e.ts) AS merged_at
FROM events AS e
WHERE e.user_id != '' AND e.anonymous_id != ''
GROUP BY project, anonymous_id;

-- Merges in events stored before this migration. Replaying it (a crash before it is recorded)
-- or overlapping the view's first inserts adds states that merge to the same answer.
INSERT INTO identities
SELECT
    e.project AS project,
    e.anonymous_id AS anonymous_id,
    argMinState(e.user_id, (e.ts, e.id)) AS user_id,
    min(e.ts) AS merged_at
FROM events AS e
WHERE e.user_id != '' AND e.anonymous_id != ''
GROUP BY project, anonymous_id;
