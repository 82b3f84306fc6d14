import type { FleetResult } from './fuzz-fleet.js';
import type { Route } from './fuzz-http.js';
import type { ReadBack } from './fuzz-readback.js';
import { total, under, type Counts } from './fuzz-tally.js';
import type { WatchResult } from './fuzz-watch.js';
import type { WorkerConfig } from './fuzz-worker.js';
import { byCode, count, mebibytes, ms } from './number-format.js';
import type { ScenarioResult } from './scenario.js';

/**
 * The RSS the server may reach: its embedded ClickHouse alone takes ~260 MiB at start and
 * the ingest benchmarks run it at ~0.8 GiB; hostile inputs must not take it much past that.
 */
export const rssBoundBytes = 1536 * 2 ** 20;

export interface FuzzOutcome extends FleetResult, ReadBack {
  target: number;
  seconds: number;
  /** CPU time of every server thread (chdb's too) over the run. */
  serverCpuSeconds: number;
  watched: WatchResult;
}

const targets = ['ingest', 'live', 'user', 'http', 'handshake', 'raw-http'];

/** Everything that makes the run fail, in the order a reader should look at it. */
export function fuzzVerdict(
  o: FuzzOutcome,
  logTail: string[],
): Pick<ScenarioResult, 'ok' | 'failure'> {
  const why: string[] = [];
  if (!o.alive) why.push(`the server died:\n${logTail.join('\n')}`);
  else if (o.healthzAtEnd !== 200) why.push(`/healthz answered ${o.healthzAtEnd} at the end`);
  if (o.watched.healthzFailures > 0)
    why.push(`${o.watched.healthzFailures} /healthz checks failed or took over 30 s`);
  for (const step of o.unread) why.push(`after the run, no answer to ${step}`);
  const unanswered = total(o.tally.unanswered);
  if (unanswered > 0)
    why.push(`${unanswered} socket frames never answered: ${byCode(o.tally.unanswered)}`);
  const internal = Object.entries(o.tally.answers).filter(([key]) => key.endsWith(':INTERNAL'));
  const internals = internal.reduce((sum, [, n]) => sum + n, 0) + (o.tally.httpCodes.INTERNAL ?? 0);
  if (internals > 0)
    why.push(`${internals} INTERNAL answers to client input (samples in the JSON)`);
  const sent = total(o.tally.inputs);
  if (sent < o.target) why.push(`only ${count(sent)} of ${count(o.target)} inputs sent`);
  if (o.failures.length > 0) why.push(`workers failed: ${o.failures.join('; ')}`);
  if (o.watched.rssPeakBytes > rssBoundBytes)
    why.push(
      `RSS peaked at ${mebibytes(o.watched.rssPeakBytes)}, over the bound of ${mebibytes(rssBoundBytes)}`,
    );
  const s = o.stored;
  if (s && (s.missing.length > 0 || s.doubled.length > 0))
    why.push(
      `valid events missing: ${s.missing.slice(0, 5).join(', ') || 0}; doubled: ${s.doubled.slice(0, 5).join(', ') || 0}`,
    );
  if (s && s.mismatches.length > 0)
    why.push(`acks that do not add up: ${s.mismatches.slice(0, 5).join('; ')}`);
  if (s && s.unacked > 0) why.push(`${s.unacked} valid batches never acknowledged`);
  if (s && s.storedByStats !== s.stored)
    why.push(`stats count ${s.storedByStats} fuzz.valid rows, ids found ${s.stored}`);
  for (const check of o.accounting.filter((c) => !c.ok))
    why.push(
      `/metrics do not account for ${check.name}: ${check.differences
        .slice(0, 8)
        .map(([k, a, b]) => `${k} seen ${a}, counted ${b}`)
        .join('; ')}`,
    );
  if (o.pollution.length > 0) why.push(`a polluted prototype shows in ${o.pollution.join(', ')}`);
  return why.length === 0 ? { ok: true } : { ok: false, failure: why.join('\n') };
}

const errorsOf = (answers: Counts, transport: string): Counts =>
  Object.fromEntries(
    Object.entries(under(answers, `${transport}:`)).filter(([key]) => /^[A-Z_]+$/.test(key)),
  );

export function fuzzTable(o: FuzzOutcome): ScenarioResult['table'] {
  const { tally, watched: w, stored: s } = o;
  const sent = total(tally.inputs);
  const rows: ScenarioResult['table'] = [
    [
      'hostile inputs sent',
      `${count(sent)} in ${o.seconds.toFixed(1)} s (${count(sent / o.seconds)}/s)`,
    ],
    ...targets.map((t): [string, string] => [
      `  ${t}`,
      `${count(total(tally.inputs, `${t}:`))}: ${byCode(under(tally.inputs, `${t}:`))}`,
    ]),
    [
      'server CPU (all threads)',
      `${o.serverCpuSeconds.toFixed(1)} s, ${((o.serverCpuSeconds * 1000) / Math.max(sent, 1)).toFixed(2)} ms per input`,
    ],
    ['server crashes', o.alive ? '0' : '1 (died)'],
    ['/healthz at the end', String(o.healthzAtEnd)],
    [
      '/healthz during the run',
      `${count(w.healthzChecks)} checks, p99 ${ms(w.healthzP99Ms)}, max ${ms(w.healthzMaxMs)}, failed ${w.healthzFailures}`,
    ],
    ['ingest socket errors', byCode(errorsOf(tally.answers, 'ws'))],
    [
      'ingest acks',
      `${count(tally.answers['ws:ack'] ?? 0)}; events rejected: ${byCode(tally.eventRejects)}`,
    ],
    ['live socket errors', byCode(errorsOf(tally.answers, 'live'))],
    ['user socket errors', byCode(errorsOf(tally.answers, 'user'))],
    ['upgrades', byCode(tally.upgrades)],
    ['HTTP statuses', byCode(tally.httpStatus)],
    ['HTTP error codes', byCode(tally.httpCodes)],
    ['raw-TCP requests', byCode(tally.raw)],
    ['closed by the server', byCode(tally.closes)],
    ['frames lost with a closed socket', byCode(tally.lost)],
    ['frames never answered', byCode(tally.unanswered)],
    [
      'longest wait for an owed answer',
      byCode(tally.longestWaitMs).replace(/(\d)( |$)/g, '$1 ms$2'),
    ],
    ...o.accounting.map((c): [string, string] => [`/metrics: ${c.name}`, accounted(c)]),
  ];
  if (s)
    rows.push(
      [
        'valid events acked / stored',
        `${count(s.acked)} / ${count(s.stored)} (stats: ${count(s.storedByStats)})`,
      ],
      ['valid events missing / doubled', `${s.missing.length} / ${s.doubled.length}`],
      [
        'valid batches resent (dedup check)',
        `${count(s.resends)}; duplicates counted ${count(s.duplicatesCounted)}; retried after a refusal or a lost socket ${count(s.retries)} (${byCode(s.refusedCodes)})`,
      ],
    );
  rows.push(
    [
      'server RSS start / peak / end',
      `${mebibytes(w.rssStartBytes)} / ${mebibytes(w.rssPeakBytes)} / ${mebibytes(w.rssEndBytes)} (bound ${mebibytes(rssBoundBytes)})`,
    ],
    ['fuzzer-side errors', byCode(tally.clientErrors)],
    [
      'anomalies with samples (JSON: tally.samples)',
      Object.keys(tally.samples).join(', ') || 'none',
    ],
  );
  return rows;
}

/** Exact, within the answers the fuzzer gave up on, or off: seen / counted per label. */
function accounted(check: FuzzOutcome['accounting'][number]): string {
  const off = check.differences.map(([key, seen, counted]) => `${key} ${seen}/${counted}`);
  if (off.length === 0) return `accounted exactly (${count(total(check.counted))})`;
  const within = `within ${check.tolerance} answers the fuzzer did not wait for`;
  return check.ok ? `accounted ${within}: ${off.join(', ')}` : `OFF: ${off.join(', ')}`;
}

export function fuzzFigures(o: FuzzOutcome, configs: WorkerConfig[], routes: Route[]) {
  const { tally, valid, ...rest } = o;
  return {
    ...rest,
    tally,
    valid: valid.map(({ acked, ...report }) => ({ ...report, acked: acked.length })),
    seeds: configs.map((c) => c.seed),
    budgets: configs.map((c) => c.budgets),
    routes,
  };
}
