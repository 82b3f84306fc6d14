-- Per project, id and UTC day: the first event time, kept by a materialized
-- view on `events` so retention and stickiness read one row per person and active day instead
-- of every event (src/storage/analytics/person-days-sql.ts). An id is the event's `user_id`,
-- or for an event without one its `anonymous_id` (the identity map still decides whose it is,
-- at query time, as for raw events). Each insert block collapses to one row per id and day;
-- merges fold the rest (a minimum is the same however the rows are split, so readers need
-- no FINAL). Erasure deletes a user's rows with their events (src/storage/user-data.ts), and
-- the events' retention TTL applies here too (src/storage/migrate.ts).
CREATE TABLE IF NOT EXISTS person_days
(
    project LowCardinality(String),
    day Date,
    user_id String,
    anonymous_id String,
    first_ts SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project, day, user_id, anonymous_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS person_days_mv TO person_days AS
SELECT
    e.project AS project,
    toDate(e.ts) AS day,
    e.user_id AS user_id,
    if(e.user_id != '', '', e.anonymous_id) AS anonymous_id,
    min(e.ts) AS first_ts
FROM events AS e
WHERE e.user_id != '' OR e.anonymous_id != ''
GROUP BY project, day, user_id, anonymous_id;

-- The days of events stored before this migration. Replaying it (a crash before it is
-- recorded) or overlapping the view's first inserts adds rows that fold to the same.
INSERT INTO person_days
SELECT
    e.project AS project,
    toDate(e.ts) AS day,
    e.user_id AS user_id,
    if(e.user_id != '', '', e.anonymous_id) AS anonymous_id,
    min(e.ts) AS first_ts
FROM events AS e
WHERE e.user_id != '' OR e.anonymous_id != ''
GROUP BY project, day, user_id, anonymous_id;
