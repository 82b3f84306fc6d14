import { afterAll, describe, expect, it } from 'vitest';
import { connect, makeEvents, stats, type Message } from '../helpers/socket-client.js';
import { removeDir, startServer, tempDir } from '../helpers/server-process.js';

const dataDir = tempDir();
afterAll(() => removeDir(dataDir));

const frames = 40;
const perFrame = 100;
const batches = Array.from({ length: frames }, (_, f) => makeEvents(perFrame, `crash-${f}`));

describe('durability', () => {
  it('keeps every acknowledged event through kill -9, and stores resent frames once', async () => {
    const first = await startServer({ dataDir });
    const client = await connect(`${first.wsUrl}/v1/ingest?key=${first.key}`);
    const acks = new Map<number, Message>();
    for (let f = 0; f < frames; f++) client.send({ t: 'events', seq: f, events: batches[f] });
    while (acks.size < frames) {
      const ack = await client.nextMessage();
      expect(ack.t).toBe('ack');
      acks.set(ack.seq as number, ack);
    }
    expect([...acks.values()].every((ack) => ack.accepted === perFrame)).toBe(true);
    await first.kill();
    client.close();

    const second = await startServer({ dataDir, key: first.key });
    expect((await stats(second.url, second.key)).total).toBe(frames * perFrame);

    // A client that never saw some acks resends those frames: all are duplicates now.
    const retry = await connect(`${second.wsUrl}/v1/ingest?key=${second.key}`);
    for (let f = frames - 5; f < frames; f++)
      retry.send({ t: 'events', seq: f, events: batches[f] });
    for (let i = 0; i < 5; i++)
      expect(await retry.nextMessage()).toMatchObject({ accepted: 0, duplicates: perFrame });
    retry.close();
    expect((await stats(second.url, second.key)).total).toBe(frames * perFrame);
    expect(await second.stop()).toBe(0);
  });

  it('stores exactly once when killed with frames in flight and everything is resent', async () => {
    const dir = tempDir();
    const first = await startServer({ dataDir: dir });
    const client = await connect(`${first.wsUrl}/v1/ingest?key=${first.key}`);
    const sets = Array.from({ length: frames }, (_, f) => makeEvents(perFrame, `inflight-${f}`));
    for (let f = 0; f < frames; f++) client.send({ t: 'events', seq: f, events: sets[f] });
    await client.nextMessage(); // at least one batch is in, the rest may or may not be
    await first.kill();
    client.close();

    const second = await startServer({ dataDir: dir, key: first.key });
    const retry = await connect(`${second.wsUrl}/v1/ingest?key=${second.key}`);
    for (let f = 0; f < frames; f++) retry.send({ t: 'events', seq: f, events: sets[f] });
    let accepted = 0;
    let duplicates = 0;
    for (let f = 0; f < frames; f++) {
      const ack = await retry.nextMessage();
      accepted += ack.accepted as number;
      duplicates += ack.duplicates as number;
    }
    retry.close();
    expect(accepted + duplicates).toBe(frames * perFrame);
    expect(duplicates).toBeGreaterThanOrEqual(perFrame);
    expect((await stats(second.url, second.key)).total).toBe(frames * perFrame);
    await second.stop();
    removeDir(dir);
  });
});
