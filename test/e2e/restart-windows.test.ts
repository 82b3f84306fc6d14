import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../helpers/socket-client.js';
import { removeDir, startServer, tempDir } from '../helpers/server-process.js';

const key = 'restart_key_0123456789abcdef';
const config = {
  projects: [
    {
      id: 'r',
      keys: [{ key, scopes: ['ingest', 'read'] }],
      streams: [
        {
          name: 'per_minute',
          source: { types: ['tick'] },
          window: { kind: 'tumbling', sizeMs: 60_000 },
          aggregates: [{ name: 'n', fn: 'count' }],
          outOfOrderMs: 1000,
          emit: { mode: 'early', everyMs: 100 },
        },
      ],
    },
  ],
};
const dataDir = tempDir();
afterAll(() => removeDir(dataDir));

async function send(wsUrl: string, ids: string[], ts: number): Promise<void> {
  const client = await connect(`${wsUrl}/v1/ingest?key=${key}`);
  client.send({ t: 'events', seq: 1, events: ids.map((id) => ({ id, type: 'tick', ts })) });
  expect(await client.nextMessage()).toMatchObject({ t: 'ack', accepted: ids.length });
  client.close();
}

describe('open windows across a restart', () => {
  it('are rebuilt from stored events, so a window spanning a restart counts everything', async () => {
    // Near a minute's end the window may close in between: the second batch is then a late
    // update of the same window, and the count must still be 5.
    const ts = Date.now();
    const first = await startServer({ dataDir, key, config });
    await send(first.wsUrl, ['a', 'b', 'c'], ts);
    await first.kill();

    const second = await startServer({ dataDir, key, config });
    await send(second.wsUrl, ['d', 'e'], ts);
    const res = await fetch(
      `${second.url}/v1/streams/per_minute/windows?from=${ts - 60_000}&to=${ts + 60_000}`,
      {
        headers: { authorization: `Bearer ${key}` },
      },
    );
    const { windows } = (await res.json()) as {
      windows: Array<{ start: number; values: { n: number } }>;
    };
    expect(windows).toHaveLength(1);
    expect(windows[0]!.start).toBe(Math.floor(ts / 60_000) * 60_000);
    expect(windows[0]!.values.n).toBe(5);
    await second.stop();
  });
});
