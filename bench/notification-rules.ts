import { measureInAppDelivery, type InAppDelivery } from './in-app-delivery.js';
import { measureInAppThroughput, type InAppThroughput } from './in-app-throughput.js';
import { byCode, count, micros, ms, ratio } from './number-format.js';
import type { BenchOptions } from './options.js';
import type { CpuSample } from './proc-stats.js';
import { benchRules, pingUsers, ruleStream } from './rule-specs.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';
import { loadServer, type ServerLoad } from './server-load.js';
import { scrapeMetrics, sumOf } from './server-metrics.js';
import { describeServer, startServer, type ServerSettings } from './server-process.js';

const name = 'notification-rules';
const ruleCount = 100;
const users = 100;
// Pings per second, one event per frame: a light pace and a busier one. Each notification
// waits for its state commits (shared with the others routed meanwhile: group commit).
const pingRates = [20, 200];
// Burst events (one notification each, to a user of its own): large frames as a backend
// sends them, and one event per frame as browsers do. Many in flight, so acks (which wait
// for ClickHouse) do not pace the sender below what the rules can take.
const bursts = [
  { events: 50_000, eventsPerFrame: 100, inflight: 64 },
  { events: 10_000, eventsPerFrame: 1, inflight: 1000 },
];

interface RulesCase extends ServerLoad {
  label: string;
  rules: number;
  /** From /metrics after the load. */
  firings: number;
  ruleFailures: number;
  notifyDecisions: number;
  deliveries: InAppDelivery[];
  throughputs: InAppThroughput[];
}

const without: ServerSettings = { project: { streams: [ruleStream] } };
const withRules: ServerSettings = {
  project: { streams: [ruleStream], rules: benchRules(ruleCount) },
};

/**
 * The notifications issue: events/s through ingest with 100 rules active next to none (the
 * same stream on both servers, for the thresholds), then in-app delivery latency: a `ping`
 * event's send to its `{t:"notification"}` on the user's socket.
 */
export const notificationRules: Scenario = { name, loads: 2, run: runNotificationRules };

async function runNotificationRules(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [
    describeServer(without),
    describeServer(withRules),
    'load: this process, ws-load.ts; pings and user sockets: this process (in-app-delivery.ts)',
  ];
  const cases: RulesCase[] = [];
  try {
    cases.push(await measureCase('no rules', without, options));
    cases.push(await measureCase(`${ruleCount} rules`, withRules, options));
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const [none, rules] = cases as [RulesCase, RulesCase];
  return {
    scenario: name,
    ...verdict(cases),
    figures: { cases },
    table: table(none, rules),
    commands,
    notes: notes(options),
  };
}

async function measureCase(
  label: string,
  settings: ServerSettings,
  options: BenchOptions,
): Promise<RulesCase> {
  const server = await startServer(settings);
  try {
    const loaded = await loadServer(server, options);
    const metrics = await scrapeMetrics(server.port);
    const rules = settings.project?.rules?.length ?? 0;
    const deliveries: InAppDelivery[] = [];
    for (const pingsPerSecond of rules > 0 ? pingRates : []) {
      const pings = Math.round((pingsPerSecond * options.measureSeconds) / 2);
      const pinging = { users: pingUsers(users), pings, pingsPerSecond, drainMs: 15_000 };
      deliveries.push(await measureInAppDelivery(server, pinging));
    }
    const throughputs: InAppThroughput[] = [];
    for (const burst of rules > 0 ? bursts : []) {
      const events = options.quick ? burst.events / 10 : burst.events;
      throughputs.push(await measureInAppThroughput(server, { ...burst, events, drainMs: 60_000 }));
    }
    if (!server.alive()) throw new Error(`server died (${label}):\n${server.logTail().join('\n')}`);
    return {
      label,
      rules,
      ...loaded,
      firings: sumOf(metrics, 'backline_rules_firings_total'),
      ruleFailures: sumOf(metrics, 'backline_rules_failures_total'),
      notifyDecisions: sumOf(metrics, 'backline_notify_decisions_total'),
      deliveries,
      throughputs,
    };
  } finally {
    await server.stop();
  }
}

function verdict(cases: RulesCase[]) {
  const silent = cases.filter((c) => c.load.acceptedEvents === 0).map((c) => c.label);
  if (silent.length > 0)
    return { ok: false, failure: `nothing acknowledged with ${silent.join(', ')}` };
  const deliveries = cases.flatMap((c) => c.deliveries);
  const short = deliveries.filter((d) => d.delivered < d.pings);
  if (deliveries.length === 0 || short.length > 0) {
    const lost = short.map((d) => `${count(d.delivered)} of ${count(d.pings)}`).join(', ');
    return { ok: false, failure: `pings notified: ${lost || 'none measured'}` };
  }
  const unstored = cases.flatMap((c) => c.throughputs).filter((t) => t.stored < t.events);
  if (unstored.length > 0) {
    const lost = unstored.map((t) => `${count(t.stored)} of ${count(t.events)}`).join(', ');
    return { ok: false, failure: `burst notifications stored: ${lost}` };
  }
  return { ok: true };
}

const percent = (cpu: CpuSample | undefined, of: 'cpuSeconds' | 'mainThreadSeconds') =>
  cpu ? `${((cpu[of] / cpu.wallSeconds) * 100).toFixed(1)} %` : 'n/a';

function table(none: RulesCase, rules: RulesCase): ScenarioResult['table'] {
  const rows: ScenarioResult['table'] = [];
  for (const c of [none, rules]) {
    rows.push(
      [
        `**${c.label}**: events/s acknowledged (÷ no rules)`,
        `${count(c.load.eventsPerSecond)} (${ratio(c.load.eventsPerSecond, none.load.eventsPerSecond)})`,
      ],
      [
        `${c.label}: server main-thread CPU per event (÷ no rules)`,
        `${micros(c.mainThreadMicrosPerEvent)} (${ratio(c.mainThreadMicrosPerEvent, none.mainThreadMicrosPerEvent)})`,
      ],
      [
        `${c.label}: server CPU, all threads / main thread (100 % = one core)`,
        `${percent(c.cpu, 'cpuSeconds')} / ${percent(c.cpu, 'mainThreadSeconds')}`,
      ],
      [
        `${c.label}: ack latency p50 / p99`,
        `${ms(c.load.latencyMs.p50Ms)} / ${ms(c.load.latencyMs.p99Ms)}`,
      ],
    );
  }
  rows.push([
    `${rules.label}: firings / notification decisions / rule failures (whole load)`,
    `${count(rules.firings)} / ${count(rules.notifyDecisions)} / ${count(rules.ruleFailures)}`,
  ]);
  for (const d of rules.deliveries) {
    const { latencyMs: l } = d;
    const at = `in-app at ${d.pingsPerSecond} pings/s`;
    rows.push(
      [
        `**${at}: send → notification** p50 / p99 / max`,
        `${ms(l.p50Ms)} / ${ms(l.p99Ms)} / ${ms(l.maxMs)}`,
      ],
      [
        `${at}: received / sent (${count(d.users)} user sockets); received per second`,
        `${count(d.delivered)} / ${count(d.pings)}; ${count(d.deliveredPerSecond)}`,
      ],
      [`${at}: errors`, byCode(d.errors)],
    );
  }
  for (const t of rules.throughputs)
    rows.push(
      [
        `**in-app notifications/s, one project** (${t.eventsPerFrame}-event frames): stored in inboxes / s; stored of sent in s; ingest acks/s; rule failures`,
        `**${count(t.storedPerSecond)}**; ${count(t.stored)} of ${count(t.events)} in ${t.seconds.toFixed(2)} s; ${count(t.ackedPerSecond)}; ${count(t.ruleFailures)}`,
      ],
      [
        `in-app, ${t.eventsPerFrame}-event frames: server main-thread CPU per notification (ingest included); notifications/s one core would take`,
        `${micros(t.mainThreadMicrosPerNotification)}; ${count(1e6 / t.mainThreadMicrosPerNotification)}`,
      ],
    );
  return rows;
}

function notes(options: BenchOptions): string[] {
  return [
    `Both servers run the stream \`${ruleStream.name}\` and take the same closed-loop load ` +
      `(${options.connections} sockets × ${options.inflight} frames of ${options.eventsPerFrame} ` +
      `events in flight). The ${ruleCount} rules (bench/rule-specs.ts): ${ruleCount - 6} event rules ` +
      'on `page.view` whose `where` the bench events rarely meet (one in five matches `props.ms` = ' +
      '500, about one event in 10,000; the others never), four thresholds on the stream that never ' +
      'cross, the ping rule and the burst rule. Each is checked against every event.',
    `In-app delivery is measured after the load, on the server with the rules: ${users} user ` +
      'sockets with tokens from `POST /v1/users/:id/token`, `ping` events at ' +
      `${pingRates.join(' and then ')} per second from one ingest socket, users in turn; the ping ` +
      'rule notifies the event’s user over in_app only, through the whole router (de-duplication, ' +
      'preferences, caps, inbox, decision log). Each notification awaits its LMDB commits; the ' +
      'batches that arrive meanwhile go together, their writes in shared commits, so past the ' +
      'pace the router keeps, latency grows with the queue: received per second shows that pace.',
    'In-app notifications/s (bench/in-app-throughput.ts), last, on the same server: `burst` ' +
      'events, each to a user of its own (offline: the inbox is what a user resumes from), sent ' +
      `closed-loop over one socket: ${bursts.map((b) => `${count(b.events)} in ${b.eventsPerFrame}-event frames, ${b.inflight} in flight`).join('; ')}` +
      `${options.quick ? ' (a tenth of each with --quick)' : ''}. The burst rule notifies each ` +
      'event’s user over in_app, through the whole router; stored is the rise of ' +
      '`backline_notify_decisions_total{outcome="sent"}`, recorded once the inbox write has ' +
      'committed, from the first send to the /metrics scrape (every 50 ms) that saw the last.',
  ];
}
