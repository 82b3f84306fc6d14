-- Warehouse jobs' tables (src/analytics/warehouse-jobs.ts). Every row carries its job and run
-- (the run's start, epoch ms): readers read the run the job's status names as its last success,
-- and a job's other runs are deleted only after a newer one completed, so a reader never sees
-- a run half written, and a run cut short by a crash leaves rows nobody reads until then.

-- Per UTC day and person (identities merged): how much they did.
CREATE TABLE IF NOT EXISTS warehouse_daily_users
(
    project LowCardinality(String),
    job String,
    run UInt64,
    day Date,
    person String,
    events UInt64,
    event_types UInt32,
    first_ts DateTime64(3, 'UTC'),
    last_ts DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (project, job, run, day, person);

-- Per person: lifetime and recent activity, and the engagement score as of the run.
CREATE TABLE IF NOT EXISTS warehouse_user_features
(
    project LowCardinality(String),
    job String,
    run UInt64,
    person String,
    identified UInt8,
    first_seen DateTime64(3, 'UTC'),
    last_seen DateTime64(3, 'UTC'),
    events UInt64,
    active_days UInt32,
    event_types UInt32,
    events_7d UInt64,
    events_30d UInt64,
    engagement Float64
)
ENGINE = MergeTree
ORDER BY (project, job, run, person);

-- A retention table: per cohort start and period begun by the run, persons returning.
CREATE TABLE IF NOT EXISTS warehouse_retention
(
    project LowCardinality(String),
    job String,
    run UInt64,
    cohort_start DateTime64(3, 'UTC'),
    period UInt32,
    size UInt64,
    persons UInt64
)
ENGINE = MergeTree
ORDER BY (project, job, run, cohort_start, period);
