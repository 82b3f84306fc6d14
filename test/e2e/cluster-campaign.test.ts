import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { serverApi } from '../helpers/server-api.js';
import { startSendGridServer, type SendGridServer } from '../helpers/sendgrid-server.js';

/**
 * A campaign on a cluster of three nodes: created on one node, run by the holder of the
 * `timers` lease, which is killed (-9) part way; the next holder goes on from the campaign's
 * state in Redis. Every recipient gets the campaign's one notification (a message in flight
 * at the kill may be handed to SendGrid twice, never as a second notification), and every
 * node reports the same numbers.
 */
const key = 'cluster_campaign_key_0123456789';
const recipients = 2000;
const users = Array.from({ length: recipients }, (_, i) => `fan-${String(i).padStart(4, '0')}`);
let sg: SendGridServer;
let cluster: TestCluster;

beforeAll(async () => {
  sg = await startSendGridServer();
  // Node 2 (remote) starts first and takes the timers lease, so killing it leaves node 1, the
  // only embedded ClickHouse, running.
  cluster = await startCluster({
    key,
    order: [2, 1, 3],
    env: { SENDGRID_API_KEY: sg.apiKey, SENDGRID_BASE_URL: sg.url },
    config: {
      email: {
        from: { email: 'news@example.com' },
        rateLimit: { perSecond: 10_000, burst: 10_000 },
      },
      cluster: { leaseTtlMs: 2000 },
    },
  });
}, 180_000);
afterAll(async () => {
  await cluster?.stop();
  await sg?.close();
}, 60_000);

/** A JSON call to node `n` with the cluster's key. */
const call = (n: number, method: string, path: string, body?: unknown) =>
  serverApi(() => cluster.node(n))(method, path, body);

describe('a campaign on a cluster', () => {
  it('goes on after a kill -9 of the node running it: one notification per recipient, one report', async () => {
    for (let i = 0; i < users.length; i += 50)
      await Promise.all(
        users.slice(i, i + 50).map((user, k) =>
          call((k % 3) + 1, 'PUT', `/v1/users/${user}/preferences`, {
            email: `${user}@example.com`,
          }),
        ),
      );
    const runner = (await cluster.holderOf('timers'))!;
    expect(runner).not.toBe(1);
    const created = await call(3, 'POST', '/v1/campaigns', {
      name: 'tour',
      audience: { kind: 'list', users },
      notification: {
        category: 'news',
        title: 'On tour',
        body: 'Dates are out',
        channels: ['email'],
      },
      ratePerSecond: 200, // ~10 s of sending
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;

    await eventually(() => sg.messages.length >= 300, 30_000, '300 emails before the kill');
    await cluster.kill(runner);
    const before = new Set(sg.messages.map((m) => m.customArgs.user_id)).size;
    expect(before).toBeLessThan(recipients);
    await eventually(
      async () => ![undefined, runner].includes(await cluster.holderOf('timers')),
      30_000,
      'the timers lease taken by a live node',
      200,
    );
    const live = [1, 2, 3].filter((n) => n !== runner);
    const report = async (n: number) => (await call(n, 'GET', `/v1/campaigns/${id}`)).body;
    await eventually(async () => (await report(live[0]!)).status === 'done', 60_000, 'done');

    // Each recipient got the campaign's one notification. Emails are sent at most once: one
    // whose send the kill interrupted (claimed, the provider's answer never came) is not sent
    // again but waits for a provider event that would say it went out (README: Email), and
    // the user's decisions say so.
    const notifications = new Map<string, Set<string>>();
    for (const m of sg.messages) {
      const user = m.customArgs.user_id!;
      const ids = notifications.get(user) ?? new Set<string>();
      notifications.set(user, ids.add(m.customArgs.notification_id!));
    }
    expect([...notifications.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    expect(sg.messages.length).toBe(notifications.size);
    const missing = users.filter((user) => !notifications.has(user));
    console.log(
      `cluster campaign: ${before} emailed before the kill, ${notifications.size} in all, ` +
        `${missing.length} interrupted`,
    );
    const interrupted = async (user: string) => {
      const { decisions } = (await call(live[0]!, 'GET', `/v1/users/${user}/decisions`)).body as {
        decisions: Array<{ outcome: string; reason: string }>;
      };
      return decisions.some((d) => d.reason.includes('an earlier attempt was interrupted'));
    };
    for (const user of missing)
      await eventually(() => interrupted(user), 20_000, `${user}'s interrupted send`);
    // At most the sends in flight at the kill: one second's worth at the campaign's rate.
    expect(missing.length).toBeLessThanOrEqual(200);

    const reports = await Promise.all(live.map((n) => call(n, 'GET', `/v1/campaigns/${id}`)));
    for (const { body } of reports)
      expect(body, JSON.stringify(reports.map((r) => r.body))).toMatchObject({
        status: 'done',
        targeted: recipients,
        routed: recipients,
      });
    expect(reports[1]!.body).toEqual(reports[0]!.body);
  }, 240_000);
});
