import type { TrendingItem } from '../model/analytics.js';
/**
 * Time-decayed scores of one field's values, kept up to date event by event.
 *
 * Scores are taken at `asOf`, the end of the current bucket (buckets of `bucketMs` from the
 * epoch), so an answer holds still within a bucket but for new events:
 *   score          = Σ 2^(−(asOf − ts) / halfLife)      over events with ts in [asOf − P, asOf)
 *   previous score = Σ 2^(−(asOf − P − ts) / halfLife)  over events with ts in [asOf − 2P, asOf − P)
 * P is the period, a whole number of buckets. Per bucket and value the tracker keeps the
 * count and Σ 2^((ts − bucket start) / halfLife) (bounded by 2^(bucketMs/halfLife), so no
 * overflow however long it runs); per value, the two totals as of `asOf`. When `asOf` moves,
 * the totals decay by one factor and the buckets that crossed a period boundary move over,
 * so the work per event and per bucket step is constant, not a rescan.
 */

export interface TrendingShape {
  periodMs: number;
  halfLifeMs: number;
  bucketMs: number;
}

export type { TrendingItem };

interface Cell {
  n: number;
  w: number;
}
interface Totals {
  curN: number;
  curS: number;
  prevN: number;
  prevS: number;
}
type Place = 'future' | 'current' | 'previous' | 'gone';

export function createTrendingTracker(shape: TrendingShape, nowMs: number) {
  const { periodMs: P, halfLifeMs: h, bucketMs: b } = shape;
  const endOf = (ms: number) => Math.floor(ms / b) * b + b;
  let asOf = endOf(nowMs);
  const buckets = new Map<number, Map<string, Cell>>();
  const totals = new Map<string, Totals>();

  const placeOf = (start: number, at: number): Place =>
    start >= at
      ? 'future'
      : start >= at - P
        ? 'current'
        : start >= at - 2 * P
          ? 'previous'
          : 'gone';

  /** Adds (sign 1) or takes away (−1) a cell's part in a value's totals, as of `asOf`. */
  function apply(value: string, start: number, cell: Cell, place: Place, sign: 1 | -1) {
    if (place === 'future' || place === 'gone') return;
    let own = totals.get(value);
    if (!own) totals.set(value, (own = { curN: 0, curS: 0, prevN: 0, prevS: 0 }));
    if (place === 'current') {
      own.curN += sign * cell.n;
      own.curS = own.curN === 0 ? 0 : own.curS + sign * cell.w * 2 ** (-(asOf - start) / h);
    } else {
      own.prevN += sign * cell.n;
      own.prevS = own.prevN === 0 ? 0 : own.prevS + sign * cell.w * 2 ** (-(asOf - P - start) / h);
    }
    if (own.curN === 0 && own.prevN === 0) totals.delete(value);
  }

  /** Adds `n` events of `value` in the bucket starting at `start`, weighing `w` in it. */
  function addCell(value: string, start: number, n: number, w: number) {
    const place = placeOf(start, asOf);
    if (place === 'gone') return;
    let cells = buckets.get(start);
    if (!cells) buckets.set(start, (cells = new Map()));
    const cell = cells.get(value) ?? { n: 0, w: 0 };
    cells.set(value, { n: cell.n + n, w: cell.w + w });
    apply(value, start, { n, w }, place, 1);
  }

  /** Moves `asOf` to the end of `nowMs`'s bucket: totals decay, buckets change period. */
  function advance(nowMs: number) {
    const next = endOf(nowMs);
    if (next <= asOf) return;
    const decay = 2 ** (-(next - asOf) / h);
    for (const own of totals.values()) {
      own.curS *= decay;
      own.prevS *= decay;
    }
    const before = asOf;
    asOf = next;
    for (const [start, cells] of buckets) {
      const from = placeOf(start, before);
      const to = placeOf(start, next);
      if (from === to) continue;
      for (const [value, cell] of cells) {
        apply(value, start, cell, from, -1);
        apply(value, start, cell, to, 1);
      }
      if (to === 'gone') buckets.delete(start);
    }
  }

  return {
    /** Values known (either period), for the caller's bound on memory. */
    size: () => totals.size,
    has: (value: string) => totals.has(value),
    /** One event of `value` at `ts` (any order; older than the previous period is ignored). */
    add(value: string, ts: number) {
      const start = Math.floor(ts / b) * b;
      addCell(value, start, 1, 2 ** ((ts - start) / h));
    },
    /** Stored sums of a bucket (the backfill), as `add` would have made them. */
    load: addCell,
    /** The values with events in the current period as of `nowMs`, highest score first. */
    ranked(nowMs: number, limit: number): { asOf: number; items: TrendingItem[] } {
      advance(nowMs);
      const items: TrendingItem[] = [];
      for (const [value, t] of totals) {
        if (t.curN === 0) continue;
        const ratio = t.prevN === 0 ? null : t.curS / t.prevS - 1;
        items.push({
          ...{ value, score: t.curS, previousScore: t.prevS, change: t.curS - t.prevS },
          ...{ changeRatio: ratio, events: t.curN, previousEvents: t.prevN },
        });
      }
      items.sort((x, y) => y.score - x.score || (x.value < y.value ? -1 : 1));
      return { asOf, items: items.slice(0, limit) };
    },
  };
}

export type TrendingTracker = ReturnType<typeof createTrendingTracker>;
