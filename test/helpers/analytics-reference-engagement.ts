import type { PersonScore } from '../../src/model/analytics.js';
import type { EventRow } from '../../src/model/event.js';
import { identityMap, personOf, startOf } from './analytics-reference.js';

const day = 86_400_000;

export interface EngagementAsk {
  project: string;
  at: number;
  windowMs: number;
  halfLifeMs: number;
  frequencyTarget: number;
  breadthTarget: number;
  weights: [recency: number, frequency: number, breadth: number];
  types?: string[];
  persons?: Set<string>;
}

/**
 * Engagement by a loop, as the README states the formula: for each person with an event in
 * [at − window, at), recency 2^(−(at − last)/halfLife), frequency min(1, active UTC days /
 * target), breadth min(1, distinct types / target), and their weighted mean times 100.
 */
export function engagementReference(
  allRows: readonly EventRow[],
  ask: EngagementAsk,
): PersonScore[] {
  const rows = allRows.filter((r) => r.project === ask.project);
  const map = identityMap(rows);
  const seen = new Map<
    string,
    { last: number; days: Set<number>; types: Set<string>; n: number }
  >();
  for (const row of rows) {
    if (row.ts < ask.at - ask.windowMs || row.ts >= ask.at) continue;
    if (ask.types && !ask.types.includes(row.type)) continue;
    const person = personOf(row, map);
    if (person === '' || (ask.persons && !ask.persons.has(person))) continue;
    const own = seen.get(person) ?? { last: 0, days: new Set(), types: new Set(), n: 0 };
    own.last = Math.max(own.last, row.ts);
    own.days.add(startOf(row.ts, 'day'));
    own.types.add(row.type);
    own.n += 1;
    seen.set(person, own);
  }
  const [wR, wF, wB] = ask.weights;
  return [...seen].map(([person, s]) => {
    const recency = Math.pow(2, -(ask.at - s.last) / ask.halfLifeMs);
    const frequency = Math.min(1, s.days.size / ask.frequencyTarget);
    const breadth = Math.min(1, s.types.size / ask.breadthTarget);
    const score = (100 * (wR * recency + wF * frequency + wB * breadth)) / (wR + wF + wB);
    return {
      ...{ person, score, recency, frequency, breadth, lastMs: s.last },
      ...{ activeDays: s.days.size, eventTypes: s.types.size, events: s.n },
    };
  });
}

/** Persons, mean, lower median and the persons per bin of width 100/bins (100 in the last). */
export function distributionReference(scores: readonly PersonScore[], bins: number) {
  const sorted = scores.map((s) => s.score).sort((a, b) => a - b);
  const counts = Array.from({ length: bins }, () => 0);
  for (const score of sorted) counts[Math.min(bins - 1, Math.floor((score * bins) / 100))]! += 1;
  const n = sorted.length;
  return {
    persons: n,
    mean: n === 0 ? null : sorted.reduce((a, b) => a + b, 0) / n,
    median: n === 0 ? null : sorted[Math.ceil(n / 2) - 1]!,
    counts,
  };
}

/** DAU and MAU for each of `days` (UTC midnights), by a loop over each person's active days. */
export function stickinessReference(
  allRows: readonly EventRow[],
  ask: { project: string; days: number[]; monthDays: number; types?: string[] },
) {
  const rows = allRows.filter((r) => r.project === ask.project);
  const map = identityMap(rows);
  const active = new Map<number, Set<string>>();
  for (const row of rows) {
    if (ask.types && !ask.types.includes(row.type)) continue;
    const person = personOf(row, map);
    if (person === '') continue;
    const d = startOf(row.ts, 'day');
    if (!active.has(d)) active.set(d, new Set());
    active.get(d)!.add(person);
  }
  return ask.days.map((d) => {
    const month = new Set<string>();
    for (let k = 0; k < ask.monthDays; k++)
      for (const person of active.get(d - k * day) ?? []) month.add(person);
    const dau = active.get(d)?.size ?? 0;
    return { day: d, dau, mau: month.size, ratio: month.size === 0 ? null : dau / month.size };
  });
}
