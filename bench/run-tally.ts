import type { RunCounts, WorkerReport } from './fleet-protocol.js';
import { createLatencyHistogram } from './latency-histogram.js';

/** `performance.now()` bounds of the measured window; warm-up comes before `start`. */
export interface MeasuredWindow {
  start: number;
  end: number;
}

/**
 * What one worker saw during a run. Throughput counts replies that arrive inside the
 * window; latency goes by send time, so the slow frames at the end of the window still count.
 */
export function createRunTally(window: MeasuredWindow) {
  const latency = createLatencyHistogram();
  const errors: Record<string, number> = {};
  const counts: RunCounts = {
    acks: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    framesSent: 0,
    eventsSent: 0,
    skipped: 0,
    unacked: 0,
  };
  const inWindow = (at: number) => at >= window.start && at < window.end;

  return {
    sent(events: number, at: number): void {
      if (!inWindow(at)) return;
      counts.framesSent += 1;
      counts.eventsSent += events;
    },
    skipped(at: number): void {
      if (inWindow(at)) counts.skipped += 1;
    },
    ack(msg: Record<string, unknown>, sentAt: number | undefined): void {
      const now = performance.now();
      if (sentAt !== undefined && inWindow(sentAt)) latency.record(now - sentAt);
      if (!inWindow(now)) return;
      counts.acks += 1;
      counts.accepted += Number(msg.accepted) || 0;
      counts.duplicates += Number(msg.duplicates) || 0;
      counts.rejected += Array.isArray(msg.rejected) ? msg.rejected.length : 0;
    },
    error(code: string): void {
      errors[code] = (errors[code] ?? 0) + 1;
    },
    report(end: {
      unacked: number;
      cpuSeconds: number;
      openSockets: number;
      closedSockets: Record<string, number>;
    }): WorkerReport {
      const { unacked, ...rest } = end;
      return {
        t: 'ran',
        counts: { ...counts, unacked },
        latency: latency.encode(),
        errors,
        ...rest,
      };
    },
  };
}

export type RunTally = ReturnType<typeof createRunTally>;
