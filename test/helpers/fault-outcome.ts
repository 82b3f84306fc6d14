import type { LiveWindow } from '../../src/client/index.js';
import type { StoredEvent } from './cluster-load.js';
import { eventually } from './eventually.js';
import type { NotificationWatch } from './notification-watch.js';
import type { OracleWindow } from './window-oracle.js';

/** Acked ids against stored ones: lost (acked, not stored) and doubled (more than one row). */
export function eventOutcome(acked: Iterable<string>, stored: ReadonlyMap<string, StoredEvent>) {
  const ackedIds = [...acked];
  return {
    stored: ackedIds.filter((id) => stored.has(id)).length,
    lost: ackedIds.filter((id) => !stored.has(id)),
    doubled: [...stored.values()].filter((event) => event.copies > 1).map((event) => event.id),
  };
}

const repeats = (values: readonly string[]) => values.filter((v, at) => values.indexOf(v) !== at);

/**
 * Each watch (one per node) against the events that fired: `lost` names a fired event with no
 * notification there, `doubled` a notification received twice there or an event notified twice.
 */
export function notificationOutcome(fired: readonly string[], watches: NotificationWatch[]) {
  const where = (i: number) => (id: string) => `${id} on node ${i + 1}`;
  return {
    received: watches.map((watch) => new Set(watch.received).size),
    lost: watches.flatMap((watch, i) => {
      const notified = new Set(watch.eventOf.values());
      return fired.filter((id) => !notified.has(id)).map(where(i));
    }),
    doubled: watches.flatMap((watch, i) =>
      [...repeats(watch.received), ...repeats([...watch.eventOf.values()])].map(where(i)),
    ),
  };
}

const sameValues = (got: Record<string, unknown>, want: Record<string, number>) =>
  Object.entries(want).every(([name, value]) => got[name] === value);

/**
 * The windows whose exact aggregates (count, sum, min, max, exact uniq) differ from the
 * oracle's: in the stored table (missing counts as wrong), or in the newest final a dashboard
 * received (windows it received no final of are not judged there).
 */
export function wrongWindows(
  oracle: readonly OracleWindow[],
  table: ReadonlyMap<string, LiveWindow>,
  finals: ReadonlyMap<string, readonly LiveWindow[]>,
): string[] {
  const wrong: string[] = [];
  for (const exact of oracle) {
    const id = `${exact.start}/${exact.key}`;
    const { n, total, lo, hi, users } = exact.values;
    const want = { n, total, lo, hi, users };
    const stored = table.get(id);
    if (!stored || !sameValues(stored.values, want)) wrong.push(`table ${id}`);
    const newest = (finals.get(id) ?? []).reduce<LiveWindow | undefined>(
      (a, b) => (a && a.rev >= b.rev ? a : b),
      undefined,
    );
    if (newest && !sameValues(newest.values, want)) wrong.push(`dashboard ${id}`);
  }
  return wrong;
}

/**
 * The final windows of `stream` in the last and next hour (`GET /v1/streams/:name/windows`
 * on `url`), the `flush` group left out, once there are `expected` of them (or as they are
 * after a minute), by `<start>/<key>`.
 */
export async function windowTable(
  url: string,
  key: string,
  stream: string,
  expected: number,
): Promise<Map<string, LiveWindow>> {
  let windows: LiveWindow[] = [];
  const read = async () => {
    const range = `from=${Date.now() - 3600_000}&to=${Date.now() + 3600_000}`;
    const res = await fetch(`${url}/v1/streams/${stream}/windows?${range}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    windows = ((await res.json()) as { windows: LiveWindow[] }).windows.filter(
      (w) => w.key !== 'flush' && w.final,
    );
    return windows.length >= expected;
  };
  await eventually(read, 60_000, 'the window table', 500).catch(() => undefined);
  return new Map(windows.map((w) => [`${w.start}/${w.key}`, w]));
}
