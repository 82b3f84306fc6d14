import type { EventRow } from '../../src/model/event.js';
import { textOf } from './analytics-reference.js';

export interface TrendingAsk {
  asOf: number;
  periodMs: number;
  halfLifeMs: number;
}

export interface TrendingExpected {
  value: string;
  score: number;
  previousScore: number;
  events: number;
  previousEvents: number;
}

/**
 * Trending by a loop, as the README states it: per value, Σ 2^(−(asOf − ts)/halfLife) over
 * its events in [asOf − P, asOf), and Σ 2^(−(asOf − P − ts)/halfLife) over [asOf − 2P,
 * asOf − P); values with an event in the current period, highest score first, ties by value.
 */
export function trendingReference(
  events: ReadonlyArray<{ value: string; ts: number }>,
  ask: TrendingAsk,
): TrendingExpected[] {
  const { asOf, periodMs: P, halfLifeMs: h } = ask;
  const by = new Map<string, TrendingExpected>();
  for (const { value, ts } of events) {
    if (ts >= asOf || ts < asOf - 2 * P) continue;
    const own = by.get(value) ?? {
      value,
      score: 0,
      previousScore: 0,
      events: 0,
      previousEvents: 0,
    };
    if (ts >= asOf - P) {
      own.score += 2 ** (-(asOf - ts) / h);
      own.events += 1;
    } else {
      own.previousScore += 2 ** (-(asOf - P - ts) / h);
      own.previousEvents += 1;
    }
    by.set(value, own);
  }
  return [...by.values()]
    .filter((v) => v.events > 0)
    .sort((a, b) => b.score - a.score || (a.value < b.value ? -1 : 1));
}

/** The rows' values of `entity` (`type` or a props path) of the project and types given. */
export function entityEvents(
  rows: readonly EventRow[],
  ask: { project: string; entity: string; types?: string[] },
): Array<{ value: string; ts: number }> {
  const out: Array<{ value: string; ts: number }> = [];
  for (const row of rows) {
    if (row.project !== ask.project || (ask.types && !ask.types.includes(row.type))) continue;
    const value = ask.entity === 'type' ? row.type : textOf(row, ask.entity);
    if (value !== null) out.push({ value, ts: row.ts });
  }
  return out;
}

/** Relative closeness for sums of many decayed weights taken in another order. */
export function expectClose(got: number, want: number, what: string): void {
  if (Math.abs(got - want) > 1e-9 * Math.max(1, Math.abs(want)))
    throw new Error(`${what}: ${got} is not ${want}`);
}
