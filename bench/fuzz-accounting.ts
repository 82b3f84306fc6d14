/**
 * Whether the server's /metrics account for the bad inputs: the deltas of its counters over
 * the run against what the fuzzer saw come back. Each check compares per label value.
 */
import type { Counts, Tally } from './fuzz-tally.js';
import { bump, under } from './fuzz-tally.js';

export interface AccountingCheck {
  name: string;
  /** What the fuzzer was answered (or, for drops and closes, what it saw happen). */
  seen: Counts;
  /** The matching counter's increase over the run, per label value. */
  counted: Counts;
  /** Label values where the two differ: `[key, seen, counted]`. */
  differences: Array<[string, number, number]>;
  /** Differences the fuzzer can explain on its side (answers lost with a reset connection). */
  tolerance: number;
  ok: boolean;
}

/** Each series of `metric` as `labels → value`, e.g. `{transport="ws",code="BAD_FRAME"}`. */
function seriesOf(metrics: Map<string, number>, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of metrics)
    if (key.startsWith(`${metric}{`)) out.set(key.slice(metric.length), value);
  return out;
}

const label = (labels: string, name: string): string =>
  new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? '';

/** The increase of `metric` between two scrapes, keyed by `keyOf(labels)` (undefined: skipped). */
export function delta(
  before: Map<string, number>,
  after: Map<string, number>,
  metric: string,
  keyOf: (labels: (name: string) => string) => string | undefined,
): Counts {
  const was = seriesOf(before, metric);
  const out: Counts = {};
  for (const [labels, value] of seriesOf(after, metric)) {
    const key = keyOf((name) => label(labels, name));
    const grown = value - (was.get(labels) ?? 0);
    if (key !== undefined && grown !== 0) bump(out, key, grown);
  }
  return out;
}

function check(name: string, seen: Counts, counted: Counts, tolerance = 0): AccountingCheck {
  const keys = new Set([...Object.keys(seen), ...Object.keys(counted)]);
  const differences: Array<[string, number, number]> = [];
  let off = 0;
  for (const key of [...keys].sort()) {
    const [a, b] = [seen[key] ?? 0, counted[key] ?? 0];
    if (a !== b) differences.push([key, a, b]);
    off += Math.abs(a - b);
  }
  return { name, seen, counted, differences, tolerance, ok: off <= tolerance };
}

const isCode = (key: string) => /^[A-Z_]+$/.test(key);

/** Socket errors by `<transport>:<code>`: what came back, plus one FRAME_TOO_LARGE per drop. */
function socketErrorsSeen(tally: Tally): Counts {
  const seen: Counts = {};
  for (const [key, n] of Object.entries(tally.answers)) {
    const [transport, code] = key.split(':') as [string, string];
    if (isCode(code)) bump(seen, `${transport}:${code}`, n);
  }
  for (const [transport, n] of Object.entries(tally.dropping))
    bump(seen, `${transport}:FRAME_TOO_LARGE`, n);
  return seen;
}

/**
 * The checks of one run. `resets` are HTTP requests whose answer the client lost with its
 * connection (the server counted an answer the fuzzer never read); `rawAnswered` are the
 * statuses backline wrote to the raw-TCP requests.
 */
export function accountFor(
  tally: Tally,
  before: Map<string, number>,
  after: Map<string, number>,
  untouched: string[],
): AccountingCheck[] {
  // Upgrades the fuzzer gave up on: the server may still have answered (and counted) them.
  const upgradesAbandoned = Object.entries(tally.clientErrors)
    .filter(([key]) => key.includes('timed out'))
    .reduce((sum, [, n]) => sum + n, 0);
  // Raw requests left unanswered after the idle wait: a late answer may still have come.
  const rawLeft = Object.entries(tally.raw)
    .filter(([key]) => key.endsWith('no answer, idle'))
    .reduce((sum, [, n]) => sum + n, 0);
  const httpResets = Object.entries(under(tally.clientErrors, 'http:')).reduce(
    (sum, [, n]) => sum + n,
    0,
  );
  const socketErrors = delta(before, after, 'backline_ingest_frame_errors_total', (l) =>
    l('transport') === 'http' ? undefined : `${l('transport')}:${l('code')}`,
  );
  // A live subscription a stream's new access ended: an error the server sent unasked.
  const ended = delta(before, after, 'backline_live_subscriptions_ended_total', (l) => l('code'));
  for (const [code, n] of Object.entries(ended)) bump(socketErrors, `live:${code}`, n);
  const upgradesSeen: Counts = {};
  for (const [code, n] of Object.entries(tally.upgrades))
    if (isCode(code)) bump(upgradesSeen, code, n);
  const httpSeen: Counts = { ...tally.httpStatus };
  for (const [key, n] of Object.entries(tally.raw))
    if (key.startsWith('backline ')) bump(httpSeen, key.slice(9), n);
  const closesSeen: Counts = {};
  for (const [key, n] of Object.entries(tally.closes)) {
    const code = key.split(':')[1];
    if (code === '1008') bump(closesSeen, 'bad_frames', n);
  }
  for (const n of Object.values(tally.dropping)) bump(closesSeen, 'frame_too_large', n);
  return [
    check('socket frames refused, by transport and code', socketErrorsSeen(tally), socketErrors),
    check(
      'upgrades refused, by code',
      upgradesSeen,
      delta(before, after, 'backline_transport_upgrades_refused_total', (l) => l('code')),
      upgradesAbandoned,
    ),
    check(
      'HTTP answers, by status',
      httpSeen,
      delta(before, after, 'backline_http_requests_total', (l) =>
        untouched.includes(l('route')) ? undefined : l('status'),
      ),
      httpResets + rawLeft,
    ),
    check(
      'events rejected, by code',
      tally.eventRejects,
      delta(before, after, 'backline_ingest_events_rejected_total', (l) => l('code')),
      httpResets,
    ),
    check(
      'sockets closed by the server, by reason',
      closesSeen,
      delta(before, after, 'backline_transport_closed_by_server_total', (l) =>
        ['bad_frames', 'frame_too_large'].includes(l('reason')) ? l('reason') : undefined,
      ),
    ),
  ];
}
