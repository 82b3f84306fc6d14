import { Session } from 'chdb';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';

const adminKey = 'rollup_admin_key_0123456789';
const ingestKey = 'rollup_ingest_key_0123456789';
const blogKey = 'rollup_blog_key_0123456789';
const sales = {
  source: { types: ['sale'] },
  window: { kind: 'tumbling', sizeMs: 60_000 },
  aggregates: [
    { name: 'n', fn: 'count' },
    { name: 'amount', fn: 'sum', field: 'props.amount' },
  ],
};
// A second project's stream: the start's sweep must keep every project's rollups.
const config = {
  projects: [
    {
      id: 'shop',
      keys: [
        { key: adminKey, scopes: ['admin', 'read'] },
        { key: ingestKey, scopes: ['ingest'] },
      ],
    },
    {
      id: 'blog',
      keys: [{ key: blogKey, scopes: ['admin', 'read', 'ingest'] }],
      streams: [{ name: 'views', ...sales, source: { types: ['view'] } }],
    },
  ],
};

let server: ServerProcess;
let dataDir = '';
let sent = { n: 0, amount: 0 };
let nextId = 0;

async function api(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Sales stored (the answer comes once they are durable, so rollup views have run). */
async function sell(...amounts: number[]): Promise<void> {
  const ts = Date.now() - 60_000;
  const events = amounts.map((amount) => ({
    id: `sale-${process.pid}-${++nextId}`,
    type: 'sale',
    ts,
    props: { amount },
  }));
  const res = await api('POST', '/v1/events', ingestKey, { events });
  expect(res).toMatchObject({ status: 200, body: { accepted: amounts.length } });
  sent = { n: sent.n + amounts.length, amount: amounts.reduce((a, b) => a + b, sent.amount) };
}

/** The whole-range rollup of a stream: status and its one row's values. */
async function rollup(stream: string) {
  const range = `from=${Date.now() - 24 * 3600_000}&to=${Date.now() + 3600_000}&bucket=all`;
  const res = await api('GET', `/v1/streams/${stream}/rollup?${range}`, adminKey);
  const rows = (res.body.rows ?? []) as Array<{ values: Record<string, unknown> }>;
  return { status: res.status, values: rows.map((row) => row.values) };
}

/** Rollup tables and views in the data folder; the server must be stopped (one session per folder). */
function inFolder<T>(use: (session: Session) => T): T {
  const session = new Session(join(dataDir, 'clickhouse'));
  try {
    return use(session);
  } finally {
    session.close();
  }
}

/** Names of the tables and views that start with `rollup`, sorted. */
const rollupNames = (): string[] =>
  inFolder((session) =>
    session
      .query(
        `SELECT name FROM system.tables WHERE database = currentDatabase() AND startsWith(name, 'rollup') ORDER BY name`,
        'JSONEachRow',
      )
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { name: string }).name),
  );
const named = (part: string) => rollupNames().filter((name) => name.includes(part));
/** Every materialized view in the data folder: each would run on every insert into `events`. */
const views = (): string[] =>
  inFolder((session) =>
    session
      .query(
        `SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView' ORDER BY name`,
        'JSONEachRow',
      )
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { name: string }).name),
  );

async function start(): Promise<void> {
  server = await startServer(dataDir ? { config, dataDir } : { config });
  dataDir = server.dataDir;
}

beforeAll(start);

afterAll(async () => {
  await server?.stop();
  removeDir(dataDir);
});

describe('rollup tables over a stream’s life', () => {
  it('keeps a stream’s rollup when its twin (same source and aggregates) is deleted', async () => {
    await sell(10, 5);
    expect((await api('PUT', '/v1/streams/twin1', adminKey, sales)).status).toBe(200);
    expect((await api('PUT', '/v1/streams/twin2', adminKey, sales)).status).toBe(200);
    await sell(2.5);
    for (const twin of ['twin1', 'twin2'])
      expect(await rollup(twin)).toEqual({ status: 200, values: [sent] });

    expect((await api('DELETE', '/v1/streams/twin1', adminKey)).status).toBe(204);
    expect(await rollup('twin2')).toEqual({ status: 200, values: [sent] });
    // It still takes new events.
    await sell(1);
    expect(await rollup('twin2')).toEqual({ status: 200, values: [{ n: 4, amount: 18.5 }] });
  });

  it('backfills each redefinition, and 5 PUTs and a DELETE leave no rollup behind', async () => {
    for (let i = 1; i <= 5; i++) {
      const total = { name: `amount${i}`, fn: 'sum', field: 'props.amount' };
      const put = await api('PUT', '/v1/streams/churn', adminKey, {
        ...sales,
        aggregates: [{ name: 'n', fn: 'count' }, total],
      });
      expect(put.status).toBe(200);
      expect(await rollup('churn')).toEqual({
        status: 200,
        values: [{ n: sent.n, [`amount${i}`]: sent.amount }],
      });
    }
    expect((await api('DELETE', '/v1/streams/churn', adminKey)).status).toBe(204);

    expect(await server.stop()).toBe(0);
    expect(named('churn')).toEqual([]);
    // Only the two streams left own rollups: a table each, and no view: an insert into
    // `events` runs no query of any stream (the roller fills the tables). The one view is
    // the schema's own identity merges (clickhouse/005_identities.sql), whatever the streams.
    const owned = named('rollup_');
    expect(owned).toHaveLength(2);
    expect(owned.filter((name) => name.startsWith('rollup_twin2_'))).toHaveLength(1);
    expect(owned.filter((name) => name.startsWith('rollup_views_'))).toHaveLength(1);
    expect(views()).toEqual(['identities_mv']);
  });

  it('drops at start the rollups no stream owns, and only those', async () => {
    const owned = named('rollup_');
    // As a server killed mid-redefinition leaves them, plus one of the older naming.
    inFolder((session) => {
      session.query(
        `CREATE TABLE rollup_ghost_0123456789abcdef (bucket DateTime('UTC'), n UInt64)
         ENGINE = SummingMergeTree ORDER BY bucket`,
      );
      session.query(
        `CREATE MATERIALIZED VIEW rollup_ghost_0123456789abcdef_mv TO rollup_ghost_0123456789abcdef
         AS SELECT toStartOfHour(ts) AS bucket, count() AS n FROM events GROUP BY bucket`,
      );
      session.query('CREATE TABLE rollup_0123456789abcdef0123 (x UInt8) ENGINE = Log');
      session.query('CREATE TABLE rollups_notes (x UInt8) ENGINE = Log');
    });
    expect(named('ghost')).toHaveLength(2);

    await start();
    // The kept rollup is neither dropped nor backfilled twice, and inserts still work.
    expect(await rollup('twin2')).toEqual({ status: 200, values: [sent] });
    await sell(4);
    expect(await rollup('twin2')).toEqual({ status: 200, values: [sent] });
    const views = await api('GET', '/v1/streams/views/rollup?bucket=all', blogKey);
    expect(views.status).toBe(200);

    expect(await server.stop()).toBe(0);
    expect(rollupNames()).toEqual([...owned, 'rollups_notes'].sort());
  });
});
