import type { JsonApi } from './json-api.js';
import { startCpuSample } from './proc-stats.js';

export const defaultAudienceOptions = {
  preferencesInFlight: 64, // PUT /v1/users/:id/preferences at once, over kept-alive sockets
  eventsPerBatch: 1000, // the server's default limits.maxEventsPerFrame; ~80 KB of 1 MiB
  batchesInFlight: 4, // POST /v1/events at once
};

/** How long seeding took: kept apart from the campaign's own figures. */
export interface AudienceSeed {
  users: number;
  eventType: string;
  preferencesSeconds: number;
  preferencesPerSecond: number;
  eventsSeconds: number;
  eventsPerSecond: number;
  /** CPU while the preferences were PUT, in % of one core: the server (all threads), this process. */
  preferencesServerCpuPercent: number | undefined;
  preferencesBenchCpuPercent: number;
}

/** The i-th recipient's id and address. */
export const recipient = (i: number) => {
  const userId = `fan-${String(i).padStart(6, '0')}`;
  return { userId, email: `${userId}@example.com` };
};

/**
 * Gives `users` recipients an email address (their preferences) and one event of
 * `eventType` each, which puts them in a segment of that type; acks of `POST /v1/events`
 * mean the events are in ClickHouse, where the segment reads them.
 *
 * @example
 * const seed = await seedAudience(jsonApi(server), server.pid, 100_000, 'newsletter.optin');
 * seed.preferencesPerSecond; // 9,800
 */
export async function seedAudience(
  api: JsonApi,
  serverPid: number,
  users: number,
  eventType: string,
  options: Partial<typeof defaultAudienceOptions> = {},
): Promise<AudienceSeed> {
  const opts = { ...defaultAudienceOptions, ...options };
  let start = performance.now();
  const serverCpu = startCpuSample(serverPid);
  const benchCpu = process.cpuUsage();
  await each(users, opts.preferencesInFlight, async (i) => {
    const { userId, email } = recipient(i);
    await api('PUT', `/v1/users/${userId}/preferences`, { email });
  });
  const preferencesSeconds = (performance.now() - start) / 1000;
  const server = serverCpu.read();
  const bench = process.cpuUsage(benchCpu);
  start = performance.now();
  const now = Date.now();
  await each(Math.ceil(users / opts.eventsPerBatch), opts.batchesInFlight, async (batch) => {
    const first = batch * opts.eventsPerBatch;
    const events = [];
    for (let i = first; i < Math.min(users, first + opts.eventsPerBatch); i += 1) {
      const { userId } = recipient(i);
      events.push({ id: `optin-${userId}`, type: eventType, ts: now, userId });
    }
    const ack = (await api('POST', '/v1/events', { events })) as { accepted?: number };
    if (ack.accepted !== events.length)
      throw new Error(
        `POST /v1/events took ${ack.accepted} of ${events.length}: ${JSON.stringify(ack)}`,
      );
  });
  const eventsSeconds = (performance.now() - start) / 1000;
  return {
    users,
    eventType,
    preferencesSeconds,
    preferencesPerSecond: users / preferencesSeconds,
    eventsSeconds,
    eventsPerSecond: users / eventsSeconds,
    preferencesServerCpuPercent: server && (server.cpuSeconds / server.wallSeconds) * 100,
    preferencesBenchCpuPercent: ((bench.user + bench.system) / 1e6 / preferencesSeconds) * 100,
  };
}

/** Runs `task` for 0 … `total` − 1, `width` at a time; the first failure rejects. */
async function each(total: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < total) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, total) }, worker));
}
