import { sleep } from './deadline.js';
import { encodeEvents } from './event-frames.js';
import type { EventSender } from './event-sender.js';
import type { createLiveFleet } from './live-fleet.js';
import { startCpuSample, type CpuSample } from './proc-stats.js';
import type { ServerProcess } from './server-process.js';

/** What a round of the dashboard fan-out waits for and how long it may take. */
export interface RoundSettings {
  timeoutMs: number;
  /** Pause after each round, plus a random part of one emit period (`everyMs`). */
  pauseMs: number;
  everyMs: number;
}

export interface RoundFigures {
  /** From the event's send to the last dashboard's update. */
  lastMs: number;
  /** From the first dashboard's update to the last one's: the publish and the reading. */
  spreadMs: number;
  missing: number;
  /** Server CPU from the send until every dashboard had the update. */
  cpu: CpuSample;
  errors: Record<string, number>;
}

export type LiveFleet = ReturnType<typeof createLiveFleet>;

// When /proc cannot be read (off Linux, or the server is gone): the figures read n/a.
const unread: CpuSample = {
  wallSeconds: NaN,
  cpuSeconds: NaN,
  mainThreadSeconds: NaN,
  mainThreadSystemSeconds: NaN,
};

/**
 * One round of the fan-out: send one event whose `props.round` is `key`, wait until every
 * dashboard has had that window's update, and read the server's CPU over that time. The
 * random pause after it makes the sends fall at every phase of the stream's emit timer
 * rather than lock onto one.
 */
export function roundRunner(
  server: ServerProcess,
  sender: EventSender,
  live: LiveFleet,
  runId: string,
  settings: RoundSettings,
) {
  return async (key: string, record: boolean): Promise<RoundFigures> => {
    const cpu = startCpuSample(server.pid);
    const event = { id: `${runId}-${key}`, type: 'fanout', ts: Date.now(), props: { round: key } };
    const frame = sender.send((seq) => encodeEvents(seq, [event]));
    const delivery = await live.deliveries(key, frame.sentAt, settings.timeoutMs, record);
    const sample = cpu.read();
    const outcome = await frame.outcome;
    await sleep(settings.pauseMs + Math.random() * settings.everyMs);
    const { firstAt, lastAt } = delivery;
    return {
      lastMs: lastAt === undefined ? NaN : lastAt - frame.sentAt,
      spreadMs: lastAt === undefined || firstAt === undefined ? NaN : lastAt - firstAt,
      missing: delivery.missing,
      cpu: sample ?? unread,
      errors: outcome.code ? { [`INGEST_${outcome.code}`]: 1 } : {},
    };
  };
}

export function summarizeRounds(measured: RoundFigures[]) {
  const sum = (pick: (r: RoundFigures) => number) => measured.reduce((a, r) => a + pick(r), 0);
  const lasts = measured.map((r) => r.lastMs);
  const spreads = measured.map((r) => r.spreadMs);
  return {
    untilLastDashboardMs: { median: median(lasts), max: Math.max(...lasts) },
    spreadMs: { median: median(spreads), max: Math.max(...spreads) },
    missingDeliveries: sum((r) => r.missing),
    serverMainThreadMsPerRound: (sum((r) => r.cpu.mainThreadSeconds) / measured.length) * 1000,
    serverMainThreadSystemMsPerRound:
      (sum((r) => r.cpu.mainThreadSystemSeconds) / measured.length) * 1000,
    serverCpuPercent: (sum((r) => r.cpu.cpuSeconds) / sum((r) => r.cpu.wallSeconds)) * 100,
    serverMainThreadCpuPercent:
      (sum((r) => r.cpu.mainThreadSeconds) / sum((r) => r.cpu.wallSeconds)) * 100,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
