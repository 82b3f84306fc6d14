import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import {
  createWebhookSigner,
  sendgridEvent,
  startSendGridServer,
  type SendGridServer,
} from '../helpers/sendgrid-server.js';
import { serverApi } from '../helpers/server-api.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const dataDir = tempDir('backline-workflows-');
const signer = createWebhookSigner();
let sg: SendGridServer;
let server: ServerProcess;

const start = () =>
  startServer({
    dataDir,
    env: { SENDGRID_API_KEY: sg.apiKey, SENDGRID_BASE_URL: sg.url },
    config: {
      email: {
        from: { email: 'docs@example.com' },
        sendgrid: { webhookPublicKey: signer.publicKey },
      },
    },
  });

beforeAll(async () => {
  sg = await startSendGridServer();
  server = await start();
});
afterAll(async () => {
  await server?.stop();
  await sg?.close();
  removeDir(dataDir);
});

const api = serverApi(() => server);

// Long enough that the server is stopped before it passes, short enough for the suite.
const waitMs = 4000;
const workflow = (type: string, channels: string[]) => ({
  trigger: { kind: 'event', types: [type] },
  audience: { kind: 'user' },
  notification: {
    category: 'docs',
    title: '{{props.doc}} was shared with you',
    body: 'Open it',
    channels,
    steps: [
      { kind: 'send', channels: channels.slice(0, 1) },
      { kind: 'wait_for', state: 'read', withinMs: waitMs },
      { kind: 'escalate' },
    ],
  },
});
// In-app first, email when unread; email first (read = opened), web push when unopened.
const inAppFirst = workflow('doc.shared', ['in_app', 'email']);
const emailFirst = workflow('doc.mailed', ['email', 'web_push']);

type Decision = { notification_id: string; channel: string; outcome: string; reason: string };
const decisionsOf = async (user: string) =>
  ((await api('GET', `/v1/users/${user}/decisions`)).body.decisions as Decision[]).reverse();
const steps = async (user: string) =>
  (await decisionsOf(user)).filter((d) => d.outcome === 'workflow').map((d) => d.reason);
const inboxIds = async (user: string) =>
  ((await api('GET', `/v1/users/${user}/inbox`)).body.items as Array<{ id: string }>).map(
    (i) => i.id,
  );
const emailsTo = (user: string) => sg.messages.filter((m) => m.to === `${user}@example.com`);

/** The workflow rows of a run that sent `first` and waited for `read`, then `after`. */
const run = (first: string, channel: string, ...after: string[]) => [
  'workflow: started: 3 steps',
  `workflow: send ${channel} as ${first}`,
  `workflow: wait_for read ${waitMs} ms`,
  ...after,
];

describe('rules’ workflows over the real server', () => {
  it('escalates, after the wait and across a restart, only the runs whose notification was not read', async () => {
    const early = { ...inAppFirst.notification, steps: inAppFirst.notification.steps.slice(1) };
    const refused = await api('PUT', '/v1/rules/doc_nudge', { ...inAppFirst, notification: early });
    expect(refused).toMatchObject({ status: 400, body: { code: 'BAD_RULE' } });
    expect(JSON.stringify(refused.body)).toContain('notification.steps.0');
    expect((await api('PUT', '/v1/rules/doc_nudge', inAppFirst)).status).toBe(200);
    expect((await api('PUT', '/v1/rules/mail_nudge', emailFirst)).status).toBe(200);

    const users = { 'doc.shared': ['reader', 'ignorer'], 'doc.mailed': ['opener', 'skipper'] };
    const events = Object.entries(users).flatMap(([type, ids]) =>
      ids.map((userId) => ({
        id: `${type}-${userId}`,
        type,
        ts: Date.now(),
        userId,
        props: { doc: 'Plan' },
      })),
    );
    for (const { userId } of events)
      await api('PUT', `/v1/users/${userId}/preferences`, { email: `${userId}@example.com` });
    expect((await api('POST', '/v1/events', { events })).status).toBe(200);

    // The reader reads the in-app one; the opener opens the email (SendGrid's signed webhook).
    await eventually(async () => (await inboxIds('reader')).length === 1, 15_000, 'the item');
    const [readId] = await inboxIds('reader');
    await api('POST', '/v1/users/reader/inbox/read', { ids: [readId] });
    await eventually(() => sg.messages.length === 2, 15_000, 'the first emails');
    const opened = emailsTo('opener')[0]!;
    const payload = JSON.stringify([sendgridEvent('open', opened)]);
    const hook = await fetch(`${server.url}/v1/webhooks/sendgrid`, {
      method: 'POST',
      headers: signer.headers(payload),
      body: payload,
    });
    expect(hook.status).toBe(200);

    // Restarted in the middle of the wait: the runs and their timers are in the state store.
    await server.stop();
    expect(sg.messages.map((m) => m.to).sort()).toEqual([
      'opener@example.com',
      'skipper@example.com',
    ]);
    server = await start();

    await eventually(() => emailsTo('ignorer').length === 1, 30_000, 'the escalation email');
    const escalatedId = emailsTo('ignorer')[0]!.customArgs.notification_id!;
    const [ignoredId] = await inboxIds('ignorer');
    const ended = 'workflow: ended after its last step';
    await eventually(async () => (await steps('skipper')).includes(ended), 15_000, 'skipper');
    await eventually(async () => (await steps('ignorer')).includes(ended), 15_000, 'ignorer');
    expect(await steps('ignorer')).toEqual(
      run(
        ignoredId!,
        'in_app',
        `workflow: wait_for read not met within ${waitMs} ms`,
        `workflow: escalate to send email as ${escalatedId}`,
        ended,
      ),
    );
    const mailed = (await decisionsOf('ignorer')).filter((d) => d.notification_id === escalatedId);
    expect(mailed.map((d) => `${d.outcome}:${d.channel}`)).toEqual([
      'sent:email',
      'delivered:email',
    ]);
    // The email carried the in-app message: no second inbox item.
    expect(await inboxIds('ignorer')).toEqual([ignoredId]);

    // Web push: the skipper has no subscription, so the router drops the escalation, saying why.
    const skipped = (await steps('skipper')).find((r) => r.startsWith('workflow: escalate'))!;
    const pushId = /as (\S+)$/.exec(skipped)![1]!;
    const pushed = (await decisionsOf('skipper')).filter((d) => d.notification_id === pushId);
    expect(pushed.map((d) => `${d.outcome}:${d.reason.split(':')[0]}`)).toEqual([
      'suppressed:unreachable',
    ]);

    for (const [user, first, channel] of [
      ['reader', readId!, 'in_app'],
      ['opener', opened.customArgs.notification_id!, 'email'],
    ] as const) {
      const met = `workflow: wait_for read met by ${first}: ended`;
      await eventually(async () => (await steps(user)).includes(met), 15_000, `${user}'s end`);
      expect(await steps(user)).toEqual(run(first, channel, met));
    }
    expect(sg.messages).toHaveLength(3);
  });
});
