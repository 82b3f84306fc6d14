import type { EventRow } from '../../src/model/event.js';
import {
  identifiedOf,
  identityMap,
  meets,
  personOf,
  startOf,
  type Condition,
} from './analytics-reference.js';

const day = 86_400_000;

export interface RetentionAsk {
  project: string;
  from: number;
  to: number;
  interval: 'day' | 'week';
  periods: number;
  cohortType?: string;
  returnType?: string;
  persons?: Set<string>;
}

/**
 * Retention by a loop: a person's cohort is the day (or Monday) of their first cohort event
 * ever; they return in period k when a return event falls on a day of that period, from the
 * day of their first cohort event on.
 */
export function retentionReference(allRows: readonly EventRow[], ask: RetentionAsk) {
  const rows = allRows.filter((r) => r.project === ask.project);
  const map = identityMap(rows);
  const first = new Map<string, number>();
  const returnDays = new Map<string, Set<number>>();
  for (const row of rows) {
    const person = personOf(row, map);
    if (person === '' || (ask.persons && !ask.persons.has(person))) continue;
    if (!ask.cohortType || row.type === ask.cohortType)
      first.set(person, Math.min(first.get(person) ?? Infinity, row.ts));
    if (!ask.returnType || row.type === ask.returnType) {
      if (!returnDays.has(person)) returnDays.set(person, new Set());
      returnDays.get(person)!.add(startOf(row.ts, 'day'));
    }
  }
  const length = ask.interval === 'day' ? day : 7 * day;
  const cohorts = new Map<number, { size: number; counts: number[] }>();
  for (let t = startOf(ask.from, ask.interval); t < ask.to; t += length)
    cohorts.set(t, { size: 0, counts: Array.from({ length: ask.periods + 1 }, () => 0) });
  for (const [person, at] of first) {
    if (at < ask.from || at >= ask.to) continue;
    const cohort = cohorts.get(startOf(at, ask.interval))!;
    cohort.size += 1;
    const periods = new Set<number>();
    for (const d of returnDays.get(person) ?? [])
      if (d >= startOf(at, 'day'))
        periods.add(Math.floor((d - startOf(at, ask.interval)) / length));
    for (const k of periods) if (k <= ask.periods) cohort.counts[k]! += 1;
  }
  return [...cohorts].map(([start, c]) => ({ start, ...c }));
}

export type CohortConditionAsk =
  | {
      kind: 'performed';
      types?: string[];
      where?: Condition[];
      from?: number;
      to?: number;
      min: number;
      max?: number;
    }
  | { kind: 'first_seen'; types?: string[]; where?: Condition[]; from?: number; to?: number };

/** A cohort's persons by a loop: each condition checked over each person's events. */
export function cohortReference(
  allRows: readonly EventRow[],
  project: string,
  rule: { match: 'all' | 'any'; conditions: CohortConditionAsk[] },
  identifiedOnly = false,
): string[] {
  const rows = allRows.filter((r) => r.project === project);
  const map = identityMap(rows);
  const byPerson = new Map<string, EventRow[]>();
  const identified = new Set<string>();
  for (const row of rows) {
    const person = personOf(row, map);
    if (person === '') continue;
    byPerson.set(person, [...(byPerson.get(person) ?? []), row]);
    if (identifiedOf(row, map)) identified.add(person);
  }
  const holds = (events: EventRow[], c: CohortConditionAsk) => {
    const matching = events.filter(
      (r) => (!c.types || c.types.includes(r.type)) && meets(r, c.where ?? []),
    );
    const inSpan = (ts: number) =>
      (c.from === undefined || ts >= c.from) && (c.to === undefined || ts < c.to);
    if (c.kind === 'first_seen') {
      if (matching.length === 0) return false;
      return inSpan(Math.min(...matching.map((r) => r.ts)));
    }
    const count = matching.filter((r) => inSpan(r.ts)).length;
    return count >= c.min && (c.max === undefined || count <= c.max);
  };
  const members: string[] = [];
  for (const [person, events] of byPerson) {
    const results = rule.conditions.map((c) => holds(events, c));
    const ok = rule.match === 'all' ? results.every(Boolean) : results.some(Boolean);
    if (ok && (!identifiedOnly || identified.has(person))) members.push(person);
  }
  return members.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
