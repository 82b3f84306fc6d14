-- Who was active on which day: per project, day, event type and actor (a user id, or an
-- anonymous id for events that carry no user id), the first event's time. Rows of type ''
-- are any type; rows of day 1970-01-01 span all time (the actor's first event ever, kept past
-- the raw events' retention). The analytics queries that count persons per day (retention,
-- distinct persons per day or week) read these instead of every event: on the analytics
-- bench's 10M events there are ~100× fewer rows. Persons are resolved at read time through
-- `identities` (src/storage/analytics/person-sql.ts), so a merge counts retroactively here too.
--
-- Filled off the insert path by the rollup roller (src/storage/actor-days.ts), a range of
-- `events` blocks at a time in one part with its marker row (project '', actor 0xFF, `upto`
-- the last block rolled); readers add the blocks after the marker from `events`. Everything
-- here is a minimum or a set member, so a block rolled twice changes nothing.
CREATE TABLE IF NOT EXISTS actor_days
(
    project LowCardinality(String),
    type LowCardinality(String),
    day Date,
    identified UInt8,
    actor String,
    first_ts SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    upto SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (project, type, day, identified, actor);
