import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accuracyScenario,
  accuracyStreams,
  accuracyWindows,
  framesOf,
} from '../helpers/accuracy-scenario.js';
import type { GeneratedEvent } from '../helpers/event-generator.js';
import { connect, type Message, type SocketClient } from '../helpers/socket-client.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { nearQuantile, oracleWindows } from '../helpers/window-oracle.js';

// Event time: 20 bursts of 200 ms, 500 ms apart, from t0 (two minutes ago, aligned).
const t0 = Math.floor((Date.now() - 120_000) / 10_000) * 10_000;
const key = 'accuracy_key_0123456789abcdef';
const streams = accuracyWindows;
const { arrival, duplicates, lateWithin, tooLate, push1, push2, counted } = accuracyScenario(t0);

type Result = {
  start: number;
  end: number;
  key: string;
  values: Record<string, unknown>;
  rev: number;
};

let server: ServerProcess;
let live: SocketClient;
const finals = new Map<string, Map<string, Result>>();
const stored = new Map<string, Result[]>();
const expected = new Map<string, Array<Result & { vs: number[] }>>();
let metricsText = '';
let rollup: Array<{ key: string; values: Record<string, unknown> }> = [];
let rawTotals: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  server = await startServer({
    config: {
      projects: [
        {
          id: 'acc',
          keys: [{ key, scopes: ['ingest', 'read'] }],
          streams: accuracyStreams,
        },
      ],
    },
  });
  live = await connect(`${server.wsUrl}/v1/live?key=${key}`);
  for (const name of Object.keys(streams)) {
    live.send({ t: 'sub', id: name, stream: name });
    expect(await live.nextMessage()).toMatchObject({ t: 'snapshot', id: name, windows: [] });
    finals.set(name, new Map());
  }
  live.ws.on('message', () => undefined);

  const ingest = await connect(`${server.wsUrl}/v1/ingest?key=${key}`);
  let seq = 0;
  const send = async (events: GeneratedEvent[]) => {
    for (const frame of framesOf(events)) {
      ingest.send({ t: 'events', seq: ++seq, events: frame });
      expect(await ingest.nextMessage()).toMatchObject({ t: 'ack', seq });
    }
  };
  await send(arrival.slice(0, 2000));
  await send([...duplicates, ...arrival.slice(2000)]);
  await send([push1]);
  await send([...lateWithin, ...tooLate]);
  await send([push2]);
  ingest.close();

  // Collect window messages until the stream is quiet for a second.
  for (;;) {
    const message: Message | undefined = await live.nextMessage(1000).catch(() => undefined);
    if (!message) break;
    if (message.t !== 'window') continue;
    const w = message.w as Result & { final: boolean };
    if (!w.final || w.key === 'flush') continue;
    const byWindow = finals.get(message.id as string)!;
    const id = `${w.start}/${w.key}`;
    if ((byWindow.get(id)?.rev ?? 0) < w.rev) byWindow.set(id, w);
  }
  live.close();

  // The window table is written about every second: wait until it holds every final window.
  for (const name of Object.keys(streams)) {
    let windows: Result[] = [];
    for (let i = 0; i < 50 && windows.length !== finals.get(name)!.size; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      windows = await storedWindows(name);
    }
    stored.set(name, sorted(windows));
  }
  metricsText = await (await fetch(`${server.url}/metrics`)).text();
  const rolled = await fetch(
    `${server.url}/v1/streams/acc_tumbling/rollup?from=${t0 - 3600_000}&to=${t0 + 3600_000}&bucket=all`,
    {
      headers: { authorization: `Bearer ${key}` },
    },
  );
  rollup = ((await rolled.json()) as { rows: typeof rollup }).rows.filter(
    (row) => row.key !== 'flush',
  );

  // Direct SQL over the raw events needs the folder: chdb allows one process per folder.
  expect(await server.stop()).toBe(0);
  const session = new Session(`${server.dataDir}/clickhouse`);
  try {
    for (const name of Object.keys(streams) as Array<keyof typeof streams>) {
      expected.set(name, sorted(sqlWindows(session, name)) as Array<Result & { vs: number[] }>);
    }
    rawTotals = session
      .query(
        `SELECT JSONExtractString(props, 'g') AS key, count() AS n, sum(JSONExtractInt(props, 'v')) AS total, uniqExact(user_id) AS users
         FROM events WHERE project = 'acc' AND key != 'flush' GROUP BY key ORDER BY key`,
        'JSONEachRow',
      )
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } finally {
    session.close();
  }
}, 120_000);

afterAll(() => removeDir(server.dataDir));

const sorted = <T extends Result>(results: Iterable<T>): T[] =>
  [...results].sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));

async function storedWindows(stream: string): Promise<Result[]> {
  const res = await fetch(
    `${server.url}/v1/streams/${stream}/windows?from=${t0 - 10_000}&to=${t0 + 60_000}`,
    {
      headers: { authorization: `Bearer ${key}` },
    },
  );
  const body = (await res.json()) as { windows: Result[] };
  return body.windows.filter((w) => w.key !== 'flush');
}

/** The same windows computed by ClickHouse from the raw events (too-late ones excluded). */
function sqlWindows(
  session: Session,
  stream: keyof typeof streams,
): Array<Result & { vs: number[] }> {
  const base = `SELECT JSONExtractString(props, 'g') AS key, toUnixTimestamp64Milli(ts) AS ms, JSONExtractInt(props, 'v') AS v, user_id, id
    FROM events WHERE project = 'acc' AND type = 'acc' AND id NOT LIKE 'toolate-%' AND key != 'flush'`;
  const aggs = `count() AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean, uniqExact(user_id) AS users, arraySort(groupArray(v)) AS vs`;
  const sql = {
    acc_tumbling: `SELECT key, intDiv(ms, 1000) * 1000 AS start, start + 1000 AS end, ${aggs} FROM (${base}) GROUP BY key, start`,
    acc_hopping: `SELECT key, arrayJoin(arrayMap(k -> intDiv(ms, 500) * 500 - k * 500, range(4))) AS start, start + 2000 AS end, ${aggs}
      FROM (${base}) GROUP BY key, start`,
    acc_session: `SELECT key, min(ms) AS start, max(ms) + 300 AS end, ${aggs} FROM (
        SELECT *, sum(is_new) OVER (PARTITION BY key ORDER BY ms, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid FROM (
          SELECT *, if(ms - lagInFrame(ms, 1, -1000000000) OVER (PARTITION BY key ORDER BY ms, id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) >= 300, 1, 0) AS is_new
          FROM (${base})))
      GROUP BY key, sid`,
  }[stream];
  return session
    .query(sql, 'JSONEachRow')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      const vs = (row.vs as Array<string | number>).map(Number);
      return {
        key: row.key as string,
        start: Number(row.start),
        end: Number(row.end),
        rev: 0,
        vs,
        values: {
          n: Number(row.n),
          total: Number(row.total),
          lo: Number(row.lo),
          hi: Number(row.hi),
          mean: Number(row.mean),
          users: Number(row.users),
        },
      };
    });
}

function expectQuantile(estimate: number, values: number[], q: number): void {
  expect(nearQuantile(estimate, values, q), `${estimate} vs ${values.length} values`).toBe(true);
}

describe.each(Object.keys(streams) as Array<keyof typeof streams>)('%s', (stream) => {
  it('agrees live, in the window table and with SQL over the raw events', () => {
    const liveResults = sorted(finals.get(stream)!.values());
    expect(liveResults.length).toBeGreaterThan(20);
    const strip = ({ start, end, key: k, values }: Result) => ({ start, end, key: k, values });
    expect(stored.get(stream)!.map(strip)).toEqual(liveResults.map(strip));

    const want = expected.get(stream)!;
    expect(liveResults.map((w) => `${w.start}/${w.key}`)).toEqual(
      want.map((w) => `${w.start}/${w.key}`),
    );
    want.forEach((sql, i) => {
      const got = liveResults[i]!;
      expect(got.end).toBe(sql.end);
      for (const name of ['n', 'total', 'lo', 'hi', 'users'] as const)
        expect(got.values[name], name).toBe(sql.values[name]);
      expect(got.values.mean as number).toBeCloseTo(sql.values.mean as number, 9);
      const q = got.values.q as Record<string, number>;
      expectQuantile(q.p50!, sql.vs, 0.5);
      expectQuantile(q.p90!, sql.vs, 0.9);
    });
  });

  // The cluster test (cluster-oracle.test.ts) checks its windows against this oracle.
  it('has SQL over the raw events agree with the JS oracle over the events sent', () => {
    const oracle = oracleWindows(counted, accuracyWindows[stream]);
    const exact = ({ key: k, start, end, values, vs }: Result & { vs: number[] }) => ({
      key: k,
      start,
      end,
      vs,
      values: { ...values, mean: Number((values.mean as number).toFixed(9)) },
    });
    expect(expected.get(stream)!.map(exact)).toEqual(
      oracle.map((w) => exact({ ...w, rev: 0, values: w.values })),
    );
  });

  it('re-emitted windows for late events and counted both kinds of late', () => {
    expect(metricsText).toContain(
      `backline_pipeline_late_events_total{stream="${stream}",kind="too_late"} ${tooLate.length}`,
    );
    expect(metricsText).toContain(
      `backline_pipeline_late_events_total{stream="${stream}",kind="within"} ${lateWithin.length}`,
    );
    expect([...finals.get(stream)!.values()].some((w) => w.rev > 1)).toBe(true);
  });
});

it('rolls the whole range up from aggregate states, late events included as stored', () => {
  expect(
    rollup.map((row) => ({
      key: row.key,
      n: row.values.n,
      total: row.values.total,
      users: row.values.users,
    })),
  ).toEqual(
    rawTotals.map((row) => ({
      key: row.key,
      n: Number(row.n),
      total: Number(row.total),
      users: Number(row.users),
    })),
  );
});
