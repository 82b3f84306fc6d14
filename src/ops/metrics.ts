import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric backline exports, created against one registry (Centrifugo keeps them in one
 * module too). Names follow `backline_<subsystem>_<name>_{total,seconds,bytes}`.
 *
 * @example
 * const metrics = createMetrics(new Registry());
 * metrics.eventsAccepted.inc(10);
 */
export function createMetrics(registry: Registry = new Registry()) {
  let openWindowCount = () => 0;
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges `*_total`, which `promtool check metrics` rejects.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name);
  }
  const registers = [registry];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  return {
    registry,
    /** The pipeline reports its open windows at scrape time. */
    countOpenWindowsWith(count: () => number) {
      openWindowCount = count;
    },
    connections: new Gauge({
      name: 'backline_transport_connections',
      help: 'Open WebSocket connections by endpoint.',
      labelNames: ['endpoint'],
      registers,
    }),
    connectionsOpened: new Counter({
      name: 'backline_transport_connections_opened_total',
      help: 'WebSocket connections accepted by endpoint.',
      labelNames: ['endpoint'],
      registers,
    }),
    upgradesRefused: new Counter({
      name: 'backline_transport_upgrades_refused_total',
      help: 'WebSocket upgrades refused, by error code.',
      labelNames: ['code'],
      registers,
    }),
    socketsClosedByServer: new Counter({
      name: 'backline_transport_closed_by_server_total',
      help: 'Connections the server closed, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    userCatchUpFailures: new Counter({
      name: 'backline_transport_user_catch_up_failures_total',
      help: 'Catch-ups of user sockets after a bus drop whose inbox read failed and is tried again, by reason (inbox_unavailable).',
      labelNames: ['reason'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'backline_http_requests_total',
      help: 'HTTP requests by route and status code.',
      labelNames: ['route', 'status'],
      registers,
    }),
    frames: new Counter({
      name: 'backline_ingest_frames_total',
      help: 'Ingest frames (socket frames and HTTP batches) received, by transport.',
      labelNames: ['transport'],
      registers,
    }),
    frameErrors: new Counter({
      name: 'backline_ingest_frame_errors_total',
      help: 'Frames refused whole, by error code.',
      labelNames: ['transport', 'code'],
      registers,
    }),
    eventsReceived: new Counter({
      name: 'backline_ingest_events_received_total',
      help: 'Events received in frames that passed frame checks.',
      registers,
    }),
    eventsAccepted: new Counter({
      name: 'backline_ingest_events_accepted_total',
      help: 'Events accepted for storage.',
      registers,
    }),
    eventsRejected: new Counter({
      name: 'backline_ingest_events_rejected_total',
      help: 'Events rejected, by error code.',
      labelNames: ['code'],
      registers,
    }),
    ingestRateLimited: new Counter({
      name: 'backline_ingest_rate_limited_total',
      help: 'Ingest frames and HTTP batches refused RATE_LIMITED, by the limit that refused (key, connection) and transport.',
      labelNames: ['limit', 'transport'],
      registers,
    }),
    requestsRateLimited: new Counter({
      name: 'backline_transport_requests_rate_limited_total',
      help: 'HTTP requests and socket messages refused RATE_LIMITED, by the limit that refused (key, user) and transport (http, live, user).',
      labelNames: ['limit', 'transport'],
      registers,
    }),
    eventsDuplicate: new Counter({
      name: 'backline_ingest_events_duplicate_total',
      help: 'Events dropped as duplicates of an id already accepted.',
      registers,
    }),
    ackSeconds: new Histogram({
      name: 'backline_ingest_ack_seconds',
      help: 'Time from a frame arriving to its acknowledgement (events durable).',
      labelNames: ['transport'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchRows: new Histogram({
      name: 'backline_storage_batch_rows',
      help: 'Rows per storage insert.',
      labelNames: ['table'],
      buckets: [1, 10, 100, 1000, 5000, 10_000, 20_000, 50_000, 100_000],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'backline_storage_insert_seconds',
      help: 'Duration of storage inserts, by table and outcome.',
      labelNames: ['table', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    insertFailures: new Counter({
      name: 'backline_storage_insert_failures_total',
      help: 'Failed storage inserts, by table and reason.',
      labelNames: ['table', 'reason'],
      registers,
    }),
    rowsLost: new Counter({
      name: 'backline_storage_rows_lost_total',
      help: 'Rows neither ClickHouse nor the spool took, by table and reason (for events, their frames were answered STORAGE_FAILED).',
      labelNames: ['table', 'reason'],
      registers,
    }),
    rowsBuffered: new Gauge({
      name: 'backline_storage_rows_buffered',
      help: 'Accepted rows held in memory, not yet durable.',
      registers,
    }),
    rowsSpooled: new Gauge({
      name: 'backline_storage_rows_spooled',
      help: 'Rows waiting in the disk spool for ClickHouse.',
      registers,
    }),
    spoolBytes: new Gauge({
      name: 'backline_storage_spool_bytes',
      help: 'Bytes waiting in the disk spool for ClickHouse.',
      registers,
    }),
    rollupSeconds: new Histogram({
      name: 'backline_storage_rollup_round_seconds',
      help: 'Duration of a rollup round: every rollup table brought up to the newest events block.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    rollupFailures: new Counter({
      name: 'backline_storage_rollup_failures_total',
      help: 'Rollup rounds (reason="round") and single tables (reason="roll") that failed; the next round retries them.',
      labelNames: ['reason'],
      registers,
    }),
    lateEvents: new Counter({
      name: 'backline_pipeline_late_events_total',
      help: 'Late events by stream: within the allowed lateness (re-emitted) or too late (stored raw only).',
      labelNames: ['stream', 'kind'],
      registers,
    }),
    windowsEmitted: new Counter({
      name: 'backline_pipeline_windows_emitted_total',
      help: 'Window results emitted, by stream and whether final.',
      labelNames: ['stream', 'final'],
      registers,
    }),
    ruleFirings: new Counter({
      name: 'backline_rules_firings_total',
      help: 'Times a notification rule fired, by trigger kind.',
      labelNames: ['trigger'],
      registers,
    }),
    ruleIntents: new Counter({
      name: 'backline_rules_intents_total',
      help: 'Notification intents rules handed to the router (one per audience user), by trigger kind.',
      labelNames: ['trigger'],
      registers,
    }),
    campaignRecipients: new Counter({
      name: 'backline_campaigns_recipients_total',
      help: 'Campaign recipients handed to the router (routed) or given up after repeated route failures (failed).',
      labelNames: ['outcome'],
      registers,
    }),
    campaignFailures: new Counter({
      name: 'backline_campaigns_failures_total',
      help: 'Campaign work that failed and is retried, by reason (route: a recipient; plan: an audience page).',
      labelNames: ['reason'],
      registers,
    }),
    ruleWorkflowSteps: new Counter({
      name: 'backline_rules_workflow_steps_total',
      help: 'Steps rules’ workflows took (a wait counted when it begins), by step kind.',
      labelNames: ['kind'],
      registers,
    }),
    ruleFailures: new Counter({
      name: 'backline_rules_failures_total',
      help: 'Rule work that failed or was skipped, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    analyticsQuerySeconds: new Histogram({
      name: 'backline_analytics_query_seconds',
      help: 'Time to answer an analytics API (trends, funnels, retention, cohort_members, engagement, engagement_users, stickiness, trending, send_hours), failures included.',
      labelNames: ['api'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    analyticsQueryFailures: new Counter({
      name: 'backline_analytics_query_failures_total',
      help: 'Analytics API calls that failed, by api and reason (the error code, such as BAD_QUERY or UNKNOWN_COHORT; storage: ClickHouse failed).',
      labelNames: ['api', 'reason'],
      registers,
    }),
    sendHours: new Counter({
      name: 'backline_analytics_send_hours_total',
      help: "Recipients given a send hour (sendAt best), by basis (own: learned from their activity; project: too little of it, the project's best hour).",
      labelNames: ['basis'],
      registers,
    }),
    jobRuns: new Counter({
      name: 'backline_analytics_job_runs_total',
      help: 'Warehouse job runs ended, by kind and outcome (ok; failed: ClickHouse refused it; interrupted: its process died during it).',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    jobRunSeconds: new Histogram({
      name: 'backline_analytics_job_run_seconds',
      help: 'Time a warehouse job run took, by kind, failures included.',
      labelNames: ['kind'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    }),
    predictionAnswers: new Counter({
      name: 'backline_predictions_answers_total',
      help: 'Prediction answers by api (recommendations, churn, forecasts) and source (precomputed; fresh: made now for a user the run did not know; trending: a user with no items; unscored: a person the churn run did not score).',
      labelNames: ['api', 'source'],
      registers,
    }),
    propColumns: new Gauge({
      name: 'backline_analytics_prop_columns',
      help: 'Props kept as columns of events, by source (listed: analytics.materializedProps; auto: made after slow queries read them out of the JSON text) and state (materializing: a mutation still writes the stored events; ready).',
      labelNames: ['source', 'state'],
      registers,
    }),
    propColumnsMade: new Counter({
      name: 'backline_analytics_prop_columns_made_total',
      help: 'Props this node made columns of events after slow queries read them out of the JSON text, by outcome (made, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    trendingTrackers: new Gauge({
      name: 'backline_analytics_trending_trackers',
      help: 'Fields whose trending values this node follows live (one per project, field, types, period and half-life asked).',
      registers,
    }),
    trendingValuesDropped: new Counter({
      name: 'backline_analytics_trending_values_dropped_total',
      help: 'Events not counted for trending because their tracker already held analytics.trending.maxValues values.',
      registers,
    }),
    exportBytes: new Counter({
      name: 'backline_analytics_export_bytes_total',
      help: 'Bytes of event exports written to clients, by format.',
      labelNames: ['format'],
      registers,
    }),
    exportsEnded: new Counter({
      name: 'backline_analytics_exports_total',
      help: 'Event exports ended, by format and outcome (complete; aborted: the client went away; failed: ClickHouse failed mid-stream, the connection was closed; busy: refused EXPORT_BUSY).',
      labelNames: ['format', 'outcome'],
      registers,
    }),
    openWindows: new Gauge({
      name: 'backline_pipeline_open_windows',
      help: 'Windows held open in memory across all streams.',
      registers,
      collect() {
        this.set(openWindowCount());
      },
    }),
    liveSubscriptions: new Gauge({
      name: 'backline_live_subscriptions',
      help: 'Active dashboard subscriptions.',
      registers,
    }),
    liveSlowConsumers: new Gauge({
      name: 'backline_live_slow_consumers',
      help: 'Dashboard sockets currently behind, off the topics and served from the slow feeds.',
      registers,
    }),
    liveUpdatesCoalesced: new Counter({
      name: 'backline_live_updates_coalesced_total',
      help: 'Window updates in a slow-dashboard feed replaced by a newer update of the same window.',
      registers,
    }),
    liveUpdatesDropped: new Counter({
      name: 'backline_live_updates_dropped_total',
      help: 'Window updates dropped from a slow-dashboard feed past live.maxPendingUpdates.',
      registers,
    }),
    liveSubscriptionsEnded: new Counter({
      name: 'backline_live_subscriptions_ended_total',
      help: "Live subscriptions the server ended because a stream's new access shut their socket out, by the code sent (FORBIDDEN, UNAUTHORIZED).",
      labelNames: ['code'],
      registers,
    }),
    notifyDecisions: new Counter({
      name: 'backline_notify_decisions_total',
      help: 'Notification decisions by channel and outcome (sent, deferred, digested, suppressed, failed, …).',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    pushEndpointsRefused: new Counter({
      name: 'backline_push_endpoints_refused_total',
      help: 'Push endpoints the outbound URL policy refused, by stage (subscribe, send) and reason.',
      labelNames: ['stage', 'reason'],
      registers,
    }),
    webhookRefused: new Counter({
      name: 'backline_webhook_refused_total',
      help: 'Provider webhook requests refused, by reason (unsigned, stale, bad_signature, too_large, busy, timeout, aborted, bad_json).',
      labelNames: ['reason'],
      registers,
    }),
    userTokensRefused: new Counter({
      name: 'backline_auth_user_tokens_refused_total',
      help: 'User tokens (JWTs and backline user tokens) refused, by reason (expired, bad_signature, unknown_issuer, bad_audience, no_user_claim, jwks_unavailable, …).',
      labelNames: ['reason'],
      registers,
    }),
    keySyncFailures: new Counter({
      name: 'backline_auth_key_sync_failures_total',
      help: 'API keys not brought up to date from the StateStore, by reason (reload: the periodic full read failed; announce: a key change heard on the bus could not be read).',
      labelNames: ['reason'],
      registers,
    }),
    redisConnectionErrors: new Counter({
      name: 'backline_cluster_redis_connection_errors_total',
      help: 'Errors on connections to Redis, by reason (the socket error code, e.g. ECONNREFUSED).',
      labelNames: ['reason'],
      registers,
    }),
    busMessages: new Counter({
      name: 'backline_cluster_bus_messages_total',
      help: 'Bus messages by direction: out (published by this node), in (received by this node, once per message however many handlers).',
      labelNames: ['direction'],
      registers,
    }),
    busMessagesLost: new Counter({
      name: 'backline_cluster_bus_messages_lost_total',
      help: 'Bus messages lost, by reason (unavailable: Redis down at publish; publish_failed; encode_failed; decode_failed; handler_failed: one handler threw, the others still ran).',
      labelNames: ['reason'],
      registers,
    }),
    leasesHeld: new Gauge({
      name: 'backline_cluster_leases_held',
      help: 'Leases this node holds now (1) or competes for (0), by lease name.',
      labelNames: ['name'],
      registers,
    }),
    leaseChanges: new Counter({
      name: 'backline_cluster_lease_changes_total',
      help: 'Leases this node acquired or lost, by lease name and change (acquired, lost).',
      labelNames: ['name', 'change'],
      registers,
    }),
    logAppends: new Counter({
      name: 'backline_cluster_log_appends_total',
      help: 'Frames appended to the event log, by outcome (appended; duplicate: every row a duplicate, no entry; unavailable: Redis down, refused BACKPRESSURE; failed: the command failed).',
      labelNames: ['outcome'],
      registers,
    }),
    logEntries: new Gauge({
      name: 'backline_cluster_log_entries',
      help: 'Entries in the event log over all partitions, as last sampled for back-pressure.',
      registers,
    }),
    consumerRows: new Counter({
      name: 'backline_storage_consumer_rows_total',
      help: 'Rows the storage consumer inserted from the event log, by path (live; recovery: entries pending at start, claimed, or retried).',
      labelNames: ['path'],
      registers,
    }),
    consumerRowsAlreadyStored: new Counter({
      name: 'backline_storage_consumer_rows_already_stored_total',
      help: 'Rows the recovery path found in ClickHouse already and did not insert again.',
      registers,
    }),
    consumerRecoveries: new Counter({
      name: 'backline_storage_consumer_recoveries_total',
      help: 'Batches of log entries that went through the recovery path, by reason (start: own pending entries at start; claimed: from a dead consumer; retry: after a failed insert).',
      labelNames: ['reason'],
      registers,
    }),
    consumerClaims: new Counter({
      name: 'backline_storage_consumer_claims_total',
      help: 'Log entries claimed (XAUTOCLAIM) from consumers idle past claimIdleMs.',
      registers,
    }),
    consumerFailures: new Counter({
      name: 'backline_storage_consumer_failures_total',
      help: 'Storage consumer failures, by reason (redis_error: a read, ack, claim or trim failed; clickhouse_error: the recovery path could not ask which rows are stored; bad_entry: an entry that does not decode, acked and dropped). Insert failures are in backline_storage_insert_failures_total.',
      labelNames: ['reason'],
      registers,
    }),
    consumerTrimmed: new Counter({
      name: 'backline_storage_consumer_trimmed_total',
      help: 'Event log entries trimmed (stored, and no longer needed by the partition owner).',
      registers,
    }),
    consumerLag: new Gauge({
      name: 'backline_storage_consumer_lag',
      help: 'Event log entries the storage group has not read yet, over all partitions, as last sampled.',
      registers,
    }),
    consumerPending: new Gauge({
      name: 'backline_storage_consumer_pending',
      help: 'Event log entries read by the storage group and not yet stored (acked), as last sampled.',
      registers,
    }),
    rpcRequests: new Counter({
      name: 'backline_storage_rpc_requests_total',
      help: 'ClickHouse requests this node sent to the embedded owner over Redis, by op and outcome (ok, error: the owner answered with an error, timeout: no answer by the deadline, unavailable: Redis down, closed: pending when the client closed).',
      labelNames: ['op', 'outcome'],
      registers,
    }),
    rpcServed: new Counter({
      name: 'backline_storage_rpc_served_total',
      help: 'ClickHouse requests the embedded owner took from Redis, by op and outcome (ok, error, expired: past its deadline, skipped; bad_request: did not decode).',
      labelNames: ['op', 'outcome'],
      registers,
    }),
    partitionsOwned: new Gauge({
      name: 'backline_cluster_partitions_owned',
      help: 'Event log partitions whose streams and rules this node runs now (holds partition:<p>).',
      registers,
    }),
    liveNodes: new Gauge({
      name: 'backline_cluster_live_nodes',
      help: 'Nodes in the cluster registry (beating within the lease TTL), as last sampled by the partition balancer.',
      registers,
    }),
    partitionHandovers: new Counter({
      name: 'backline_cluster_partition_handovers_total',
      help: 'Partitions this node handed over to bring a node under its fair share up (released after its cursor was committed).',
      registers,
    }),
    computeEntries: new Counter({
      name: 'backline_cluster_compute_entries_total',
      help: 'Event log entries the partition owner consumed, by path (fed: to the streams and the rules; rules_only: the takeover rebuild had fed the streams already).',
      labelNames: ['path'],
      registers,
    }),
    takeovers: new Counter({
      name: 'backline_cluster_takeovers_total',
      help: 'Partitions this node took over: open windows rebuilt, consumption started.',
      registers,
    }),
    takeoverEvents: new Counter({
      name: 'backline_cluster_takeover_events_total',
      help: 'Events replayed into streams while taking partitions over, by source (stored: from ClickHouse; log: retained log entries not stored yet).',
      labelNames: ['source'],
      registers,
    }),
    takeoverFinals: new Counter({
      name: 'backline_cluster_takeover_finals_total',
      help: 'Windows that closed during a takeover rebuild, by outcome (emitted: never published final; seen: the window cache had their final, not emitted again).',
      labelNames: ['outcome'],
      registers,
    }),
    computeLag: new Gauge({
      name: 'backline_cluster_compute_lag_seconds',
      help: 'How far the owner is behind the newest entry of a partition it owns, in entry time, as last sampled.',
      labelNames: ['partition'],
      registers,
    }),
    computeFailures: new Counter({
      name: 'backline_cluster_compute_failures_total',
      help: "Partition owner failures, by reason (redis_error: a log read or cursor write failed, retried; rebuild_failed: a takeover could not read its events, retried; bad_entry: an entry that does not decode, skipped; cursor_refused: the lease was no longer this node's; balance_failed: the partition balancer could not sample the nodes and leases, retried).",
      labelNames: ['reason'],
      registers,
    }),
    definitionSyncs: new Counter({
      name: 'backline_cluster_definition_syncs_total',
      help: 'Definition changes announced on the bus and applied here, by kind (stream, rule) and outcome (defined, removed, unchanged: already as saved, failed).',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    clusterNodeInfo: new Gauge({
      name: 'backline_cluster_node_info',
      help: "Always 1 in cluster mode, labelled with this node's id (cluster.nodeId) and its storage (owner, remote, server): join on `node` to name a node.",
      labelNames: ['node', 'storage'],
      registers,
    }),
    rateLimiterFailures: new Counter({
      name: 'backline_limits_rate_limiter_failures_total',
      help: 'Rate-limit checks that could not reach the shared limiter and let the request through, by reason (unavailable: Redis down; redis_error).',
      labelNames: ['reason'],
      registers,
    }),
    unsealFailures: new Counter({
      name: 'backline_state_unseal_failures_total',
      help: 'Encrypted state records that could not be opened, by reason (no_key: none is set; unknown_key: its key id is not in the ring; bad_tag: another key under that id, or altered; malformed).',
      labelNames: ['reason'],
      registers,
    }),
    resealed: new Counter({
      name: 'backline_state_resealed_total',
      help: 'State records re-encrypted with the current key when read (plain, or sealed with an older key of the ring).',
      registers,
    }),
    auditEntries: new Counter({
      name: 'backline_audit_entries_total',
      help: 'Audited requests written to the audit log (admin writes, erasures, exports).',
      registers,
    }),
    erasures: new Counter({
      name: 'backline_privacy_erasures_total',
      help: 'User erasures by outcome (done; failed: a step failed, retried until done; resumed: found unfinished at start).',
      labelNames: ['outcome'],
      registers,
    }),
    erasedRows: new Counter({
      name: 'backline_privacy_erased_total',
      help: 'Rows, state keys and spooled rows removed by user erasures, by store (events, decisions, windows, state, spool).',
      labelNames: ['store'],
      registers,
    }),
    exportedItems: new Counter({
      name: 'backline_privacy_exported_items_total',
      help: 'Items written to user data exports, by kind (event, inbox, decision, …).',
      labelNames: ['kind'],
      registers,
    }),
    eventLoopLag: new Gauge({
      name: 'backline_ops_event_loop_lag_seconds',
      help: 'Event-loop delay since the last scrape, by statistic (p50, p99, max).',
      labelNames: ['stat'],
      registers,
      collect() {
        this.set({ stat: 'p50' }, loopDelay.percentile(50) / 1e9);
        this.set({ stat: 'p99' }, loopDelay.percentile(99) / 1e9);
        this.set({ stat: 'max' }, loopDelay.max / 1e9);
        loopDelay.reset();
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
