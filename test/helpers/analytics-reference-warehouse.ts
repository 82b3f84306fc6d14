import type { EventRow } from '../../src/model/event.js';
import { identifiedOf, identityMap, personOf, startOf } from './analytics-reference.js';
import { engagementReference, type EngagementAsk } from './analytics-reference-engagement.js';

const day = 86_400_000;

/** Per UTC day and person, by a loop: the daily_users job's rows for a run at `run`. */
export function dailyUsersReference(
  allRows: readonly EventRow[],
  project: string,
  run: number,
  days: number,
) {
  const rows = allRows.filter((r) => r.project === project);
  const map = identityMap(rows);
  const from = startOf(run, 'day') - (days - 1) * day;
  const by = new Map<
    string,
    { day: number; person: string; events: number; types: Set<string>; first: number; last: number }
  >();
  for (const row of rows) {
    const person = personOf(row, map);
    if (person === '' || row.ts < from || row.ts >= run) continue;
    const d = startOf(row.ts, 'day');
    const key = `${d}|${person}`;
    const own = by.get(key) ?? {
      day: d,
      person,
      events: 0,
      types: new Set(),
      first: row.ts,
      last: row.ts,
    };
    own.events += 1;
    own.types.add(row.type);
    own.first = Math.min(own.first, row.ts);
    own.last = Math.max(own.last, row.ts);
    by.set(key, own);
  }
  return [...by.values()]
    .sort((a, b) => a.day - b.day || (a.person < b.person ? -1 : 1))
    .map((r) => ({ ...r, types: r.types.size }));
}

/** Per person, by a loop: the user_features job's rows for a run at `run`. */
export function featuresReference(
  allRows: readonly EventRow[],
  project: string,
  run: number,
  formula: Omit<EngagementAsk, 'project' | 'at'>,
) {
  const rows = allRows.filter((r) => r.project === project && r.ts < run);
  const map = identityMap(allRows.filter((r) => r.project === project));
  const scores = new Map(
    engagementReference(rows, { project, at: run, ...formula }).map((s) => [s.person, s.score]),
  );
  const by = new Map<
    string,
    {
      person: string;
      identified: boolean;
      first: number;
      last: number;
      events: number;
      days: Set<number>;
      types: Set<string>;
      week: number;
      month: number;
    }
  >();
  for (const row of rows) {
    const person = personOf(row, map);
    if (person === '') continue;
    const own = by.get(person) ?? {
      person,
      identified: false,
      first: row.ts,
      last: row.ts,
      events: 0,
      days: new Set(),
      types: new Set(),
      week: 0,
      month: 0,
    };
    own.identified ||= identifiedOf(row, map);
    own.first = Math.min(own.first, row.ts);
    own.last = Math.max(own.last, row.ts);
    own.events += 1;
    own.days.add(startOf(row.ts, 'day'));
    own.types.add(row.type);
    if (row.ts >= run - 7 * day) own.week += 1;
    if (row.ts >= run - 30 * day) own.month += 1;
    by.set(person, own);
  }
  return [...by.values()]
    .sort((a, b) => (a.person < b.person ? -1 : 1))
    .map((r) => ({
      ...r,
      days: r.days.size,
      types: r.types.size,
      engagement: scores.get(r.person) ?? 0,
    }));
}
