import { Packr } from 'msgpackr';
import { settlesWithin, waitUntil } from './deadline.js';
import type { DeliveriesCommand, SubscribeCommand, WorkerReport } from './fleet-protocol.js';
import type { IngestClient } from './ingest-client.js';
import { createLatencyHistogram } from './latency-histogram.js';
import { machineNow } from './machine-clock.js';

const packr = new Packr();
// Arrivals are checked this often while a deliveries command waits; a finer poll would take
// CPU from the sockets whose messages it waits for.
const pollMs = 5;

/**
 * A worker's dashboards (`GET /v1/live` sockets): `subscribe` sends one `{t:"sub"}` on every
 * socket; from then on the first `{t:"window"}` of each window key on each socket is noted on
 * the machine clock, so the runner's send time and these arrivals subtract across processes.
 *
 * @example
 * const watch = createLiveWatch(clients);
 * await watch.subscribe({ t: 'subscribe', message: { t: 'sub', id: 1, stream }, timeoutMs });
 * await watch.deliveries({ t: 'deliveries', key: 'r1', sentAt, timeoutMs }); // 'delivered'
 */
export function createLiveWatch(clients: readonly IngestClient[]) {
  const arrivals = new Map<string, number[]>();
  const errors: Record<string, number> = {};
  let subscribed = 0;

  const note = (seen: Set<string>, msg: Record<string, unknown> | undefined) => {
    const key = (msg?.w as { key?: unknown } | undefined)?.key;
    if (msg?.t !== 'window' || typeof key !== 'string' || seen.has(key)) return;
    seen.add(key);
    const at = machineNow();
    const list = arrivals.get(key);
    if (list) list.push(at);
    else arrivals.set(key, [at]);
  };

  return {
    async subscribe(cmd: SubscribeCommand): Promise<WorkerReport> {
      const frame = packr.pack(cmd.message);
      const snapshots = clients.map(
        (client) =>
          new Promise<void>((resolve) => {
            const seen = new Set<string>();
            client.onMessage((msg) => {
              if (msg?.t === 'snapshot') {
                subscribed += 1;
                resolve();
              } else if (msg?.t === 'error') count(errors, String(msg.code));
              note(seen, msg);
            });
            client.send(frame);
          }),
      );
      await settlesWithin(Promise.all(snapshots), cmd.timeoutMs);
      return { t: 'subscribed', subscribed, errors };
    },

    async deliveries(cmd: DeliveriesCommand): Promise<WorkerReport> {
      const got = () => arrivals.get(cmd.key)?.length ?? 0;
      await waitUntil(() => got() >= subscribed, cmd.timeoutMs, pollMs);
      const times = arrivals.get(cmd.key) ?? [];
      arrivals.delete(cmd.key);
      const latency = createLatencyHistogram();
      for (const at of times) latency.record(at - cmd.sentAt);
      return {
        t: 'delivered',
        received: times.length,
        missing: Math.max(0, subscribed - times.length),
        latency: latency.encode(),
        // Noted in arrival order: the first is the earliest.
        ...(times.length > 0 ? { firstAt: times[0], lastAt: times.at(-1) } : {}),
      };
    },
  };
}

function count(counts: Record<string, number>, code: string): void {
  counts[code] = (counts[code] ?? 0) + 1;
}
