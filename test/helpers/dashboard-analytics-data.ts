import type { EventRow } from '../../src/model/event.js';
import { dayMs, generateAnalyticsData } from './analytics-data.js';
import { startOf } from './analytics-reference.js';
import { sendRows } from './analytics-server.js';
import { seeded } from './event-generator.js';
import { startServer, type ServerProcess } from './server-process.js';

/**
 * The dashboard analytics suite's server and data: project `label` with three weeks of the
 * seeded analytics history (visitors, signups, plays, tickets, identity merges) ending a few
 * days ago, and plays of artists (`props.artistId`) in the last two days for the trending page,
 * all sent over `POST /v1/events`. The rows sent are returned for the test's own loops.
 */
export const keys = {
  /** admin implies read and users:read; ingest to send the rows. */
  admin: 'dash_analytics_admin_0123456789',
  /** read only: the profile page must say that it needs users:read. */
  read: 'dash_analytics_read_0123456789',
};

export const project = 'label';

const config = {
  limits: { maxPastMs: 60 * dayMs },
  projects: [
    {
      id: project,
      keys: [
        { key: keys.admin, scopes: ['admin', 'ingest'] },
        { key: keys.read, scopes: ['read'] },
      ],
      // One stream, so the page has no "no metric streams" note over the analytics pages.
      streams: [
        {
          name: 'plays',
          source: { types: ['song.play'] },
          window: { kind: 'tumbling', sizeMs: 60_000 },
          aggregates: [{ name: 'plays', fn: 'count' }],
        },
      ],
    },
  ],
};

/** Plays of these artists over the last two days, recent ones weighing more in the score. */
const recentPlays: Record<string, { current: number; previous: number }> = {
  'ar-nova': { current: 34, previous: 6 },
  'ar-lane': { current: 21, previous: 25 },
  'ar-echo': { current: 9, previous: 0 },
  'ar-dust': { current: 3, previous: 14 },
};

/** A row as ClickHouse keeps it, for the reference loops. */
export function eventRow(event: {
  id: string;
  type: string;
  ts: number;
  userId?: string;
  anonymousId?: string;
  props?: object;
}): EventRow {
  const { id, type, ts } = event;
  return {
    ...{ project, type, ts, client_ts: ts, sent_at: null, received_at: ts, id },
    ...{ user_id: event.userId ?? '', anonymous_id: event.anonymousId ?? '', session_id: '' },
    props: JSON.stringify(event.props ?? {}),
  };
}

function recentRows(now: number): EventRow[] {
  const random = seeded(17);
  const rows: EventRow[] = [];
  for (const [artistId, counts] of Object.entries(recentPlays)) {
    const spans = [
      [counts.current, now - dayMs + 60_000],
      [counts.previous, now - 2 * dayMs + 60_000],
    ] as const;
    for (const [n, start] of spans) {
      for (let i = 0; i < n; i++) {
        const ts = Math.floor(start + random() * (dayMs - 120_000));
        const userId = `fan-${Math.floor(random() * 12)}`;
        const id = `recent-${rows.length}`;
        rows.push(eventRow({ id, type: 'song.play', ts, userId, props: { artistId } }));
      }
    }
  }
  return rows;
}

/**
 * A fan with more than two pages of timeline: visits on a first device, logs in there, later
 * visits on a second device and plays before logging in again (a second merge), then plays,
 * views tickets and shares on most of the last 20 days.
 */
export const superfan = { user: 'superfan', devices: ['visitor-sf-1', 'visitor-sf-2'] };

function superfanRows(now: number): EventRow[] {
  const random = seeded(23);
  const rows: EventRow[] = [];
  const add = (type: string, ts: number, ids: { userId?: string; anonymousId?: string }) => {
    const props = { artist: `ar${Math.floor(random() * 5)}` };
    rows.push(eventRow({ id: `sf-${rows.length}`, type, ts, ...ids, props }));
  };
  const [first, second] = superfan.devices as [string, string];
  const start = now - 20 * dayMs;
  for (let i = 0; i < 3; i++) add('page.view', start + i * 600_000, { anonymousId: first });
  add('identify', start + 3600_000, { userId: superfan.user, anonymousId: first });
  add('page.view', now - 10 * dayMs, { anonymousId: second });
  add('song.play', now - 10 * dayMs + 300_000, { anonymousId: second });
  add('identify', now - 10 * dayMs + 600_000, { userId: superfan.user, anonymousId: second });
  for (let i = 0; i < 80; i++) {
    const type = ['song.play', 'song.play', 'ticket.view', 'share'][Math.floor(random() * 4)]!;
    add(type, Math.floor(start + 2 * 3600_000 + random() * 19.8 * dayMs), {
      userId: superfan.user,
    });
  }
  return rows;
}

/** The server with every row sent and stored. */
export async function startDashboardAnalytics(): Promise<{
  server: ServerProcess;
  rows: EventRow[];
}> {
  const server = await startServer({ config });
  const t0 = startOf(Date.now() - 25 * dayMs, 'week');
  const history = generateAnalyticsData({
    seed: 11,
    project,
    t0,
    days: 18,
    users: 40,
    anonymous: 8,
  }).rows;
  const rows = [...history, ...recentRows(Date.now()), ...superfanRows(Date.now())];
  await sendRows(server, keys.admin, rows);
  return { server, rows };
}
