import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrendingItem } from '../../src/analytics/trending-tracker.js';
import { expectClose, trendingReference } from '../helpers/analytics-reference-trending.js';
import { api, config, keys } from '../helpers/analytics-server.js';
import { seeded } from '../helpers/event-generator.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

/**
 * `GET /v1/trending` over the real server: the first request loads what is stored, later
 * events are followed live from ingest; each answer against a loop over every event sent.
 */
let server: ServerProcess;
let http: ReturnType<typeof api>;
const sent: Array<{ value: string; ts: number }> = [];
const random = seeded(3);
let n = 0;

async function send(count: number, artists: readonly string[], spanMs: number) {
  const now = Date.now();
  const events = Array.from({ length: count }, () => {
    const artistId = artists[Math.floor(random() * artists.length)]!;
    const ts = Math.floor(now - random() * spanMs);
    sent.push({ value: artistId, ts });
    return { id: `t-${n++}`, type: 'song.play', ts, userId: 'u1', props: { artistId } };
  });
  const res = await http.send('POST', '/v1/events', keys.ingest, { events });
  expect(await res.json()).toMatchObject({ accepted: count });
}

type Answer = { asOf: number; live: boolean; items: TrendingItem[] };

function expectAnswer(answer: Answer) {
  const want = trendingReference(sent, {
    asOf: answer.asOf,
    periodMs: 86_400_000,
    halfLifeMs: 21_600_000,
  });
  expect(answer.items.map((i) => [i.value, i.events, i.previousEvents])).toEqual(
    want.map((w) => [w.value, w.events, w.previousEvents]),
  );
  answer.items.forEach((item, i) => expectClose(item.score, want[i]!.score, item.value));
}

beforeAll(async () => {
  server = await startServer({ config });
  http = api(server);
});
afterAll(async () => {
  await server?.stop();
  removeDir(server.dataDir);
});

describe('trending over the real server', () => {
  it('ranks stored events, then follows live ones; another project sees none of them', async () => {
    // Six days of plays: most fall before the previous period and count for nothing.
    await send(400, ['a1', 'a2', 'a3', 'a4'], 6 * 86_400_000);
    await send(200, ['a1', 'a2', 'a3', 'a4'], 2 * 86_400_000);
    const path = '/v1/trending?entity=props.artistId&types=["song.play"]&limit=50';
    const first = await http.getJson<Answer>(path);
    expect(first.status).toBe(200);
    expect(first.body.live).toBe(true);
    expectAnswer(first.body);

    // A new artist breaks out in the last hour.
    await send(150, ['new1'], 3_600_000);
    const second = (await http.getJson<Answer>(path)).body;
    expectAnswer(second);
    expect(second.items[0]).toMatchObject({ value: 'new1', previousEvents: 0, changeRatio: null });
    expect(second.items.find((i) => i.value === 'a1')!.changeRatio).not.toBeNull();

    const rival = await http.getJson<Answer>(path, keys.rivalRead);
    expect([rival.status, rival.body.items]).toEqual([200, []]);
    const bad = await http.getJson('/v1/trending?entity=nope');
    expect([bad.status, bad.body.code]).toEqual([400, 'BAD_QUERY']);
  });
});
