import type { EventRow } from '../../src/model/event.js';

/**
 * Plain-loop answers over raw event rows, for checking the ClickHouse analytics against:
 * nothing here uses src/ code, only the documented meaning of each API.
 */

export interface Condition {
  field: string;
  op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'exists';
  value?: unknown;
}

/** anonymous id → user id of its earliest event carrying both (ties by id). */
export function identityMap(rows: readonly EventRow[]): Map<string, string> {
  const first = new Map<string, EventRow>();
  for (const row of rows) {
    if (!row.user_id || !row.anonymous_id) continue;
    const seen = first.get(row.anonymous_id);
    if (!seen || row.ts < seen.ts || (row.ts === seen.ts && row.id < seen.id))
      first.set(row.anonymous_id, row);
  }
  return new Map([...first].map(([anon, row]) => [anon, row.user_id]));
}

export function personOf(row: EventRow, map: Map<string, string>): string {
  return row.user_id || map.get(row.anonymous_id) || row.anonymous_id;
}

/** Whether the person is a known user: a user id, or an anonymous id that merged into one. */
export function identifiedOf(row: EventRow, map: Map<string, string>): boolean {
  return row.user_id !== '' || map.has(row.anonymous_id);
}

const columns: Record<string, keyof EventRow> = {
  id: 'id',
  type: 'type',
  userId: 'user_id',
  anonymousId: 'anonymous_id',
  sessionId: 'session_id',
};

function rawValue(row: EventRow, field: string): unknown {
  if (columns[field]) return (row[columns[field]] as string) || undefined;
  let value: unknown = JSON.parse(row.props);
  for (const key of field.split('.').slice(1)) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The field as text: strings as they are, other JSON as JSON text, absent and null as null. */
export function textOf(row: EventRow, field: string): string | null {
  const value = rawValue(row, field);
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function numberOf(row: EventRow, field: string): number | null {
  const value = rawValue(row, field);
  return typeof value === 'number' ? value : null;
}

export function meets(row: EventRow, conditions: readonly Condition[]): boolean {
  return conditions.every((c) => meetsOne(row, c));
}

function meetsOne(row: EventRow, { field, op, value }: Condition): boolean {
  const raw = rawValue(row, field);
  switch (op) {
    case 'exists':
      return raw !== undefined && raw !== null;
    case 'ne':
      return !meetsOne(row, { field, op: 'eq', value });
    case 'in':
      return (value as unknown[]).some((v) => meetsOne(row, { field, op: 'eq', value: v }));
  }
  if (typeof value === 'number') {
    if (typeof raw !== 'number') return false;
    return {
      eq: raw === value,
      gt: raw > value,
      gte: raw >= value,
      lt: raw < value,
      lte: raw <= value,
    }[op];
  }
  if (typeof raw !== 'string') return false;
  const text = value as string;
  return { eq: raw === text, gt: raw > text, gte: raw >= text, lt: raw < text, lte: raw <= text }[
    op
  ];
}

export type Interval = 'hour' | 'day' | 'week';
const hour = 3_600_000;

/** The UTC hour, day, or Monday a time falls in. */
export function startOf(ms: number, interval: Interval): number {
  if (interval === 'hour') return ms - (ms % hour);
  const date = new Date(ms);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (interval === 'day') return midnight;
  return midnight - ((date.getUTCDay() + 6) % 7) * 24 * hour;
}

export function nextStart(ms: number, interval: Interval): number {
  return ms + (interval === 'hour' ? hour : interval === 'day' ? 24 * hour : 7 * 24 * hour);
}

/** Sorts values by rank, high first, then by value (null last), as top lists are chosen. */
export function byRankThenKey<T extends { key: string | null; rank: number }>(a: T, b: T) {
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (a.key === b.key) return 0;
  if (a.key === null) return 1;
  if (b.key === null) return -1;
  return a.key < b.key ? -1 : 1;
}

/** The median as statisticians take it: the middle value, or the mean of the middle two. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
