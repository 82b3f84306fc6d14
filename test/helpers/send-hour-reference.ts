import type { EventRow } from '../../src/model/event.js';
import type { SendHourModel } from '../../src/storage/analytics/send-hour-sql.js';
import { identityMap } from './analytics-reference.js';

/**
 * Send hours by a plain loop over raw rows, from the documented rule alone (README: Send
 * time), for checking the ClickHouse answers against.
 */

/** The settings the server reads (one declaration of them), with the query's project and time. */
export interface SendHourAsk extends SendHourModel {
  project: string;
  nowMs: number;
  fallbackHour: number;
}

const hourMs = 3600_000;
const dayMs = 24 * hourMs;

/** The lowest hour of the highest `w[h] + nw · (w[h−1] + w[h+1])` (around the clock); null if all 0. */
function best(w: readonly number[], nw: number): number | null {
  const scores = w.map((x, h) => x + nw * (w[(h + 23) % 24]! + w[(h + 1) % 24]!));
  const top = Math.max(...scores);
  return top > 0 ? scores.indexOf(top) : null;
}

/** The rows in the lookback that count, with their person. */
function counted(rows: readonly EventRow[], ask: SendHourAsk) {
  const mine = rows.filter((r) => r.project === ask.project);
  const merges = identityMap(mine);
  const from = ask.nowMs - ask.lookbackDays * dayMs;
  return mine
    .filter((r) => r.ts >= from && r.ts < ask.nowMs && !ask.ignoredTypes.includes(r.type))
    .map((r) => ({ row: r, person: r.user_id || merges.get(r.anonymous_id) || '' }));
}

/** The project's hour: by its opens, else all its events, else the fallback. */
export function projectHourReference(rows: readonly EventRow[], ask: SendHourAsk): number {
  const opens = Array.from({ length: 24 }, () => 0);
  const all = Array.from({ length: 24 }, () => 0);
  for (const { row } of counted(rows, ask)) {
    const h = new Date(row.ts).getUTCHours();
    all[h]!++;
    if (ask.openTypes.includes(row.type)) opens[h]!++;
  }
  const byOpens = opens.some((n) => n > 0);
  return best(byOpens ? opens : all, ask.neighbourWeight) ?? ask.fallbackHour;
}

/** Every asked id's hour and basis. */
export function sendHoursReference(
  rows: readonly EventRow[],
  ask: SendHourAsk,
  userIds: readonly string[],
): Map<string, { hour: number; basis: 'own' | 'project' }> {
  const asked = new Set(userIds);
  const per = new Map<string, { opens: number[]; others: number[]; days: Set<number> }>();
  for (const { row, person } of counted(rows, ask)) {
    if (!person || !asked.has(person)) continue;
    let p = per.get(person);
    if (!p) {
      p = { opens: Array(24).fill(0), others: Array(24).fill(0), days: new Set() };
      per.set(person, p);
    }
    const h = new Date(row.ts).getUTCHours();
    (ask.openTypes.includes(row.type) ? p.opens : p.others)[h]! += 1;
    p.days.add(Math.floor(row.ts / dayMs));
  }
  const projectHour = projectHourReference(rows, ask);
  const answer = new Map<string, { hour: number; basis: 'own' | 'project' }>();
  for (const id of userIds) {
    const p = per.get(id);
    const w = p ? p.opens.map((n, h) => n * ask.openWeight + p.others[h]!) : [];
    const own = p && p.days.size >= ask.minActiveDays ? best(w, ask.neighbourWeight) : null;
    answer.set(
      id,
      own === null ? { hour: projectHour, basis: 'project' } : { hour: own, basis: 'own' },
    );
  }
  return answer;
}
