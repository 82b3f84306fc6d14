import type { EventRow } from '../../src/model/event.js';
import {
  byRankThenKey,
  identityMap,
  meets,
  nextStart,
  numberOf,
  personOf,
  startOf,
  textOf,
  type Condition,
  type Interval,
} from './analytics-reference.js';

export interface TrendAsk {
  project: string;
  from: number;
  to: number;
  event?: string;
  where?: Condition[];
  interval: Interval;
  measure: 'count' | 'users' | 'sum' | 'avg';
  prop?: string;
  breakdown?: string;
  limit?: number;
  /** Only these persons (a cohort). */
  persons?: Set<string>;
  /** These breakdown values instead of the top ones. */
  keys?: Array<string | null>;
}

interface Tally {
  events: number;
  persons: Set<string>;
  sum: number;
  numbers: number;
}

const tally = (): Tally => ({ events: 0, persons: new Set(), sum: 0, numbers: 0 });

function valueOf(t: Tally, measure: TrendAsk['measure']): number | null {
  if (measure === 'count') return t.events;
  if (measure === 'users') return t.persons.size;
  if (measure === 'sum') return t.sum;
  return t.numbers === 0 ? null : t.sum / t.numbers;
}

/** Trends by a loop over the rows: buckets, then series ranked as the API ranks them. */
export function trendReference(allRows: readonly EventRow[], ask: TrendAsk) {
  const rows = allRows.filter((r) => r.project === ask.project);
  const map = identityMap(rows);
  const buckets: number[] = [];
  for (let t = startOf(ask.from, ask.interval); t < ask.to; t = nextStart(t, ask.interval))
    buckets.push(t);
  const byKey = new Map<string | null, { total: Tally; per: Map<number, Tally> }>();
  for (const row of rows) {
    if (row.ts < ask.from || row.ts >= ask.to) continue;
    if (ask.event && row.type !== ask.event) continue;
    if (!meets(row, ask.where ?? [])) continue;
    const person = personOf(row, map);
    if (ask.persons && !ask.persons.has(person)) continue;
    if (ask.measure === 'users' && person === '') continue;
    const key =
      ask.breakdown === undefined
        ? null
        : ask.breakdown === 'type'
          ? row.type
          : textOf(row, ask.breakdown);
    let own = byKey.get(key);
    if (!own) byKey.set(key, (own = { total: tally(), per: new Map() }));
    const bucket = startOf(row.ts, ask.interval);
    if (!own.per.has(bucket)) own.per.set(bucket, tally());
    const x = ask.prop ? numberOf(row, ask.prop) : null;
    for (const t of [own.total, own.per.get(bucket)!]) {
      t.events += 1;
      t.persons.add(person);
      if (x !== null) {
        t.sum += x;
        t.numbers += 1;
      }
    }
  }
  const rankOf = (t: Tally) => (ask.measure === 'avg' ? t.events : (valueOf(t, ask.measure) ?? 0));
  const ranked = [...byKey].map(([key, own]) => ({ key, own, rank: rankOf(own.total) }));
  ranked.sort(byRankThenKey);
  const chosen =
    ask.breakdown === undefined
      ? ranked
      : ask.keys
        ? ranked.filter((r) => ask.keys!.includes(r.key))
        : ranked.slice(0, ask.limit ?? 10);
  const rest = ranked.filter((r) => !chosen.includes(r));
  const series = chosen.map(({ key, own }) => ({ key, other: false, own }));
  if (rest.length > 0) {
    const merged = { total: tally(), per: new Map<number, Tally>() };
    for (const { own } of rest) mergeInto(merged, own);
    series.push({ key: null, other: true, own: merged });
  }
  const empty = ask.measure === 'avg' ? null : 0;
  return {
    buckets,
    series: series.map(({ key, other, own }) => ({
      key,
      other,
      values: buckets.map((b) => (own.per.has(b) ? valueOf(own.per.get(b)!, ask.measure) : empty)),
      total: valueOf(own.total, ask.measure),
    })),
  };
}

function mergeInto(into: { total: Tally; per: Map<number, Tally> }, from: typeof into) {
  const add = (a: Tally, b: Tally) => {
    a.events += b.events;
    for (const p of b.persons) a.persons.add(p);
    a.sum += b.sum;
    a.numbers += b.numbers;
  };
  add(into.total, from.total);
  for (const [bucket, t] of from.per) {
    if (!into.per.has(bucket)) into.per.set(bucket, tally());
    add(into.per.get(bucket)!, t);
  }
}
