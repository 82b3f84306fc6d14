import { expect } from 'vitest';
import type { EventRow } from '../../src/model/event.js';
import { dayMs, generateAnalyticsData } from './analytics-data.js';
import { startOf } from './analytics-reference.js';
import { startServer, type ServerProcess } from './server-process.js';

/**
 * The analytics end-to-end suites' real server: project `shop` with the seeded data set sent
 * over `POST /v1/events`, and project `rival` with a data set of its own that no `shop` answer
 * may include. Keys: admin, read, ingest and users:read for `shop`; read for `rival`.
 */
export const keys = {
  admin: 'analytics_admin_key_0123456789',
  read: 'analytics_read_key_0123456789',
  ingest: 'analytics_ingest_key_0123456789',
  users: 'analytics_users_key_0123456789',
  rivalRead: 'analytics_rival_read_0123456789',
  rivalIngest: 'analytics_rival_ingest_0123456789',
};

export const config = {
  limits: { maxPastMs: 60 * dayMs },
  // Every prop read out of the JSON text twice becomes a column: the suites' answers, checked
  // against the loops, hold before, while and after a column is written.
  analytics: { autoMaterialize: { slowMs: 0, slowQueries: 2, refreshMs: 500 } },
  cors: { origins: ['https://app.example.com'] },
  projects: [
    {
      id: 'shop',
      keys: [
        { key: keys.admin, scopes: ['admin', 'read'] },
        { key: keys.read, scopes: ['read'] },
        { key: keys.ingest, scopes: ['ingest'] },
        { key: keys.users, scopes: ['users:read'] },
      ],
    },
    {
      id: 'rival',
      keys: [
        { key: keys.rivalRead, scopes: ['read'] },
        { key: keys.rivalIngest, scopes: ['ingest'] },
      ],
    },
  ],
};

export const t0 = startOf(Date.now() - 30 * dayMs, 'week');
export const days = 21;
export const range = { from: t0, to: t0 + days * dayMs };

export function seededRows(): { shop: EventRow[]; rival: EventRow[] } {
  const base = { t0, days, users: 60, anonymous: 10 };
  return {
    shop: generateAnalyticsData({ seed: 5, project: 'shop', ...base }).rows,
    rival: generateAnalyticsData({ seed: 6, project: 'rival', ...base, users: 20 }).rows,
  };
}

/** Rows as `POST /v1/events` takes them, 500 a request; each batch wholly accepted. */
export async function sendRows(server: ServerProcess, key: string, rows: readonly EventRow[]) {
  for (let i = 0; i < rows.length; i += 500) {
    const events = rows.slice(i, i + 500).map((r) => ({
      id: r.id,
      type: r.type,
      ts: r.ts,
      ...(r.user_id ? { userId: r.user_id } : {}),
      ...(r.anonymous_id ? { anonymousId: r.anonymous_id } : {}),
      props: JSON.parse(r.props) as object,
    }));
    const res = await api(server).call('/v1/events', key, {
      method: 'POST',
      body: JSON.stringify({ events }),
    });
    expect(await res.json()).toMatchObject({ accepted: events.length });
  }
}

/** The server with both projects' rows sent. */
export async function startAnalyticsServer(dataDir?: string) {
  const server = await startServer({ config, ...(dataDir ? { dataDir } : {}) });
  const rows = seededRows();
  await sendRows(server, keys.ingest, rows.shop);
  await sendRows(server, keys.rivalIngest, rows.rival);
  return { server, rows };
}

/** Calls with a bearer key; JSON answers typed by the caller. */
export function api(server: ServerProcess) {
  const call = (path: string, key: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
  const getJson = async <T = Record<string, unknown>>(path: string, key: string = keys.read) => {
    const res = await call(path, key);
    return { status: res.status, body: (await res.json()) as T & { code?: string } };
  };
  const send = async (method: string, path: string, key: string, body?: unknown) =>
    call(path, key, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { call, getJson, send };
}

/** A query string over `range` unless `values` set from/to; objects as JSON. */
export const query = (values: Record<string, string | number | object>) =>
  new URLSearchParams(
    Object.entries({ from: range.from, to: range.to, ...values }).map(
      ([k, v]): [string, string] => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)],
    ),
  ).toString();
