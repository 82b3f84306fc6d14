import { accountFor, type AccountingCheck } from './fuzz-accounting.js';
import type { FleetResult } from './fuzz-fleet.js';
import { untouchedRoutes } from './fuzz-http.js';
import { pollutionCanary } from './fuzz-msgpack.js';
import { pollutionSeen, storedIds, storedOfType } from './fuzz-server.js';
import type { ValidReport } from './fuzz-valid.js';
import { scrapeMetrics } from './server-metrics.js';
import type { ServerProcess } from './server-process.js';

export interface ReadBack {
  healthzAtEnd: number;
  alive: boolean;
  accounting: AccountingCheck[];
  stored: StoredCheck | undefined;
  pollution: string[];
  /** Steps that could not be done: a server that does not answer after the run has hung. */
  unread: string[];
}

/**
 * What the server says after the run: /healthz, the /metrics deltas against the fuzzer's
 * tally, every valid event read back, answers searched for a polluted prototype. A step
 * that fails is named in `unread` (and fails the run) instead of ending the scenario.
 */
export async function readBack(
  server: ServerProcess,
  fleet: FleetResult,
  before: Map<string, number>,
  runId: string,
): Promise<ReadBack> {
  const unread: string[] = [];
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (err) {
      unread.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  const healthz = () =>
    fetch(`http://127.0.0.1:${server.port}/healthz`, { signal: AbortSignal.timeout(30_000) });
  const healthzAtEnd = (await step('/healthz', async () => (await healthz()).status)) ?? 0;
  const alive = server.alive();
  if (!alive)
    return { healthzAtEnd, alive, accounting: [], stored: undefined, pollution: [], unread };
  const after = await step('/metrics', () => scrapeMetrics(server.port));
  const accounting = after ? accountFor(fleet.tally, before, after, untouchedRoutes) : [];
  const stored = await step('valid events read back', () =>
    checkStored(server, runId, fleet.valid),
  );
  const pollution =
    (await step('pollution check', () => pollutionSeen(server, pollutionCanary))) ?? [];
  return { healthzAtEnd, alive, accounting, stored, pollution, unread };
}

export interface StoredCheck {
  /** Distinct valid events acknowledged (accepted, or a duplicate of an accepted one). */
  acked: number;
  /** Distinct valid event ids found in storage (the users' exports). */
  stored: number;
  /** Stored rows of type `fuzz.valid` per `GET /v1/events/stats`: `stored` if none is doubled. */
  storedByStats: number;
  /** Acknowledged and not stored: the one outcome an ack promises never happens. */
  missing: string[];
  /** Stored more than once. */
  doubled: string[];
  /** Stored without an ack the fuzzer read (its socket closed first): allowed, counted. */
  storedUnacked: number;
  /** Valid events whose batch was never answered by the end (refused to the last, or lost). */
  unacked: number;
  mismatches: string[];
  resends: number;
  retries: number;
  duplicatesCounted: number;
  refusedCodes: Record<string, number>;
}

/**
 * Reads every valid event back: each worker's user is exported (`GET /v1/users/:id/export`
 * lists every stored event of the user, one row each) and each id counted, so an event
 * stored twice shows as twice; the per-type stats give the same total from another query.
 */
export async function checkStored(
  server: ServerProcess,
  runId: string,
  reports: ValidReport[],
): Promise<StoredCheck> {
  const out: StoredCheck = {
    ...{ acked: 0, stored: 0, storedByStats: 0, missing: [], doubled: [], storedUnacked: 0 },
    ...{
      unacked: 0,
      mismatches: [],
      resends: 0,
      retries: 0,
      duplicatesCounted: 0,
      refusedCodes: {},
    },
  };
  for (const report of reports) {
    const counts = await storedIds(server, report.userId);
    const acked = new Set(report.acked);
    for (let n = 0; n < report.made; n++) {
      const id = `v-${runId}-w${report.worker}-${n}`;
      const times = counts.get(id) ?? 0;
      if (times > 0) out.stored += 1;
      if (times > 1) out.doubled.push(`${id} ×${times}`);
      if (acked.has(n) && times === 0) out.missing.push(id);
      if (!acked.has(n) && times > 0) out.storedUnacked += 1;
    }
    out.acked += acked.size;
    out.unacked += report.unacked;
    out.mismatches.push(...report.mismatches);
    out.resends += report.resends;
    out.retries += report.retries;
    out.duplicatesCounted += report.duplicateEvents;
    for (const [code, n] of Object.entries(report.refusedCodes))
      out.refusedCodes[code] = (out.refusedCodes[code] ?? 0) + n;
  }
  out.storedByStats = await storedOfType(server, 'fuzz.valid');
  return out;
}
