/**
 * Before anything is timed, the history scenario checks that the routes answer what was
 * seeded: every event counted once by the stats, every stream event once in the rollup (so
 * the roller rolled them all, and the unrolled tail adds none twice), and a day's windows
 * agreeing with the rollup's day, key by key. A scenario whose answers are wrong measures
 * nothing worth reading.
 */
import { dayMs, type HistorySeedResult } from './history-data.js';
import { timedGet } from './history-routes.js';

interface Answer<Row> {
  rows?: Row[];
  windows?: Row[];
  total?: number;
}
type Values = Record<string, number | null>;
interface KeyedRow {
  key: string;
  start: number;
  values: Values;
}

/** Compared exactly between windows and rollup: sums and maxima, not the uniq estimate. */
const exactValues = ['events', 'ms_total', 'ms_max'];

/** Mismatches found, as text; empty when every answer is exact. */
export async function checkAnswers(
  target: { port: number; key: string },
  days: { start: number; end: number },
  seeded: HistorySeedResult,
  stream: string,
): Promise<string[]> {
  const get = async <Row>(path: string) =>
    JSON.parse((await timedGet(target, path)).body) as Answer<Row>;
  const range = `from=${days.start}&to=${days.end}`;
  const problems: string[] = [];

  const stats = await get(`/v1/events/stats?${range}`);
  if (stats.total !== seeded.events)
    problems.push(`stats count ${stats.total} events of ${seeded.events} seeded`);

  const all = await get<KeyedRow>(`/v1/streams/${stream}/rollup?${range}&bucket=all`);
  const rolled = (all.rows ?? []).reduce((sum, row) => sum + Number(row.values.events), 0);
  if (rolled !== seeded.streamEvents)
    problems.push(`the rollup counts ${rolled} events of the stream's ${seeded.streamEvents}`);

  const day = { from: days.end - dayMs, to: days.end };
  const dayRange = `from=${day.from}&to=${day.to}`;
  const windows = await get<KeyedRow>(`/v1/streams/${stream}/windows?${dayRange}`);
  const rollup = await get<KeyedRow>(`/v1/streams/${stream}/rollup?${dayRange}&bucket=day`);
  const fromWindows = totalsByKey(windows.windows ?? []);
  const fromRollup = totalsByKey(rollup.rows ?? []);
  for (const key of new Set([...fromWindows.keys(), ...fromRollup.keys()])) {
    const a = JSON.stringify(fromWindows.get(key));
    const b = JSON.stringify(fromRollup.get(key));
    if (a !== b) problems.push(`last day, key ${key}: windows ${a}, rollup ${b}`);
  }
  if (fromWindows.size === 0) problems.push('no windows stored for the last day');
  return problems;
}

/** Per key: the sum of `events` and `ms_total`, the maximum of `ms_max`. */
function totalsByKey(rows: readonly KeyedRow[]): Map<string, Values> {
  const totals = new Map<string, Values>();
  for (const { key, values } of rows) {
    const into = totals.get(key) ?? Object.fromEntries(exactValues.map((name) => [name, 0]));
    into.events = Number(into.events) + Number(values.events);
    into.ms_total = Number(into.ms_total) + Number(values.ms_total);
    into.ms_max = Math.max(Number(into.ms_max), Number(values.ms_max));
    totals.set(key, into);
  }
  return totals;
}
