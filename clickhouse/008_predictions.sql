-- Prediction jobs' tables (src/predictions/, README: Predictions). Like the warehouse tables,
-- every row carries its job and run; readers read the run the job's status names as its last
-- success, and the model version an answer names is `<job>@<run>`.

-- Per person: their top recommended items, best first. The person '' holds the trending
-- list a person without a list of their own falls back to.
CREATE TABLE IF NOT EXISTS warehouse_recommendations
(
    project LowCardinality(String),
    job String,
    run UInt64,
    person String,
    rank UInt16,
    item String,
    score Float64,
    collaborative Float64,
    content Float64,
    because String
)
ENGINE = MergeTree
ORDER BY (project, job, run, person, rank);

-- Per item: its nearest items (co-occurrence and content), which serve a person who came
-- after the run, and the item's own attributes and popularity.
CREATE TABLE IF NOT EXISTS warehouse_item_neighbours
(
    project LowCardinality(String),
    job String,
    run UInt64,
    item String,
    neighbour String,
    collaborative Float64,
    content Float64
)
ENGINE = MergeTree
ORDER BY (project, job, run, item, neighbour);

-- Per person active in the model's window: the churn risk as of the run, its features and
-- each feature's contribution to the log-odds (what drove the score).
CREATE TABLE IF NOT EXISTS warehouse_churn
(
    project LowCardinality(String),
    job String,
    run UInt64,
    person String,
    identified UInt8,
    risk Float64,
    features String,
    contributions String
)
ENGINE = MergeTree
ORDER BY (project, job, run, person);

-- Per series (`dau`, or `show:<id>`) and day after the run: the forecast and its interval.
CREATE TABLE IF NOT EXISTS warehouse_forecasts
(
    project LowCardinality(String),
    job String,
    run UInt64,
    series String,
    day Date,
    value Float64,
    low Float64,
    high Float64
)
ENGINE = MergeTree
ORDER BY (project, job, run, series, day);
