import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createEmailChannel,
  type EmailChannelDeps,
} from '../../../../src/notify/channels/email/email.js';
import type { EmailProvider } from '../../../../src/notify/channels/email/providers.js';
import { createSendRecords } from '../../../../src/notify/channels/email/send-records.js';
import { createSendGridProvider } from '../../../../src/notify/channels/email/sendgrid-provider.js';
import { createSuppressions } from '../../../../src/notify/channels/email/suppressions.js';
import { createEmailTemplates } from '../../../../src/notify/channels/email/templates.js';
import { createUnsubscribeLinks } from '../../../../src/notify/channels/email/unsubscribe-links.js';
import { createSendGridWebhook } from '../../../../src/notify/channels/email/webhook.js';
import { createPreferences } from '../../../../src/notify/preferences.js';
import { openLmdbStateStore } from '../../../../src/state/lmdb-state-store.js';
import type { StateStore } from '../../../../src/state/state-store.js';
import { emailNotification, sender } from '../../../helpers/email-fixtures.js';
import { eventually } from '../../../helpers/eventually.js';
import {
  createWebhookSigner,
  sendgridEvent,
  startSendGridServer,
  type SendGridServer,
} from '../../../helpers/sendgrid-server.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-email-channel-'));
let sg: SendGridServer;
beforeAll(async () => {
  sg = await startSendGridServer();
});
afterAll(() => sg.close());
afterEach(() => vi.useRealTimers());

let seq = 0;
const newPath = () => join(dir, `state-${++seq}`);

/** The channel over real parts: LMDB state, the template store and SendGrid's double. */
async function setup(
  state: StateStore,
  overrides: Partial<EmailChannelDeps> = {},
  options: Parameters<typeof createEmailChannel>[1] = {},
  now?: () => number,
) {
  const templates = createEmailTemplates(state);
  const preferences = createPreferences(state);
  const suppressions = createSuppressions(state);
  const records = createSendRecords(state, now);
  const provider = createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url });
  const channel = createEmailChannel(
    { templates, preferences, suppressions, records, provider, from: sender, ...overrides },
    options,
    now,
  );
  return { channel, templates, preferences, suppressions, records };
}

const sentTo = (notificationId: string) =>
  sg.messages.filter((m) => m.customArgs.notification_id === notificationId);

describe('email channel', () => {
  it('reaches a user with an address that no bounce disabled', async () => {
    const state = openLmdbStateStore(newPath());
    const { channel, preferences, suppressions } = await setup(state);
    expect(await channel.reachable('p1', 'u1')).toBe(false);
    await preferences.put('p1', 'u1', { email: 'fan1@example.com' });
    expect(await channel.reachable('p1', 'u1')).toBe(true);
    await suppressions.suppress('p1', 'u1', {
      reason: 'bounce',
      email: 'fan1@example.com',
      notificationId: 'n-0',
      detail: '550',
    });
    expect(await channel.reachable('p1', 'u1')).toBe(false);
    const result = await channel.send(emailNotification('n-unreachable', 'u1'));
    expect(result).toMatchObject({ status: 'failed', reason: /^unreachable/ });
    await state.close();
  });

  it("renders the notification's template in the user's locale, escaping variables in HTML", async () => {
    const state = openLmdbStateStore(newPath());
    const { channel, preferences, templates } = await setup(state);
    await preferences.put('p1', 'u2', { email: 'fan2@example.com' });
    const hostile = `<script>alert(1)</script>"'&`;
    await templates.put('p1', 'show', 'en', {
      subject: '{{artist}} plays',
      html: '<a href="{{url}}" title="{{artist}}">{{artist}}</a>',
      text: '{{artist}} plays: {{url}}',
    });
    await templates.put('p1', 'show', 'de', {
      subject: '{{artist}} spielt',
      html: '<p>{{artist}}</p>',
      text: '{{artist}} spielt',
    });
    const variables = { artist: hostile, url: 'javascript:alert(1)' };
    const en = emailNotification('n-en', 'u2', { template: 'show', variables });
    expect(await channel.send(en)).toMatchObject({ status: 'delivered', detail: /^sendgrid 202/ });
    const [got] = sentTo('n-en');
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;';
    expect(got!.html).toBe(`<a href="#unsafe-url" title="${escaped}">${escaped}</a>`);
    expect(got!.text).toBe(`${hostile} plays: javascript:alert(1)`);
    expect(got!.subject).toBe(`${hostile} plays`);
    expect(got!.customArgs).toMatchObject({ user_id: 'u2', template: 'show' });

    const de = emailNotification('n-de', 'u2', {
      template: 'show',
      variables: { artist: 'Ada', locale: 'de-AT' },
    });
    await channel.send(de);
    expect(sentTo('n-de')[0]!.subject).toBe('Ada spielt');
    await state.close();
  });

  it("gives templates the recipient's own variables (recommendations); the notification's win", async () => {
    const state = openLmdbStateStore(newPath());
    const asked: string[] = [];
    const { channel, preferences, templates } = await setup(state, {
      variablesFor: async (project, userId) => {
        asked.push(`${project}/${userId}`);
        if (userId === 'u-broken') throw new Error('ClickHouse is down');
        return { recommendations: { text: 'show-3, show-9', model: 'recs@1' }, artist: 'theirs' };
      },
    });
    await templates.put('p1', 'weekly', 'en', {
      subject: 'For {{artist}}',
      html: '<p>{{recommendations.text}}</p>',
      text: 'Picked for you: {{recommendations.text}} ({{recommendations.model}})',
    });
    for (const user of ['u-recs', 'u-broken'])
      await preferences.put('p1', user, { email: `${user}@example.com` });
    const variables = { artist: 'Ada' };
    await channel.send(emailNotification('n-recs', 'u-recs', { template: 'weekly', variables }));
    expect(sentTo('n-recs')[0]).toMatchObject({
      subject: 'For Ada',
      html: '<p>show-3, show-9</p>',
      text: 'Picked for you: show-3, show-9 (recs@1)',
    });
    // A failed lookup renders the template without them rather than failing the send.
    await channel.send(
      emailNotification('n-broken', 'u-broken', { template: 'weekly', variables }),
    );
    expect(sentTo('n-broken')[0]).toMatchObject({ text: 'Picked for you:  ()' });
    expect(asked).toEqual(['p1/u-recs', 'p1/u-broken']);
    await state.close();
  });

  it('without a template, sends title and body in the project layout; an unknown template fails', async () => {
    const state = openLmdbStateStore(newPath());
    const { channel, preferences, templates } = await setup(state);
    await preferences.put('p1', 'u3', { email: 'fan3@example.com' });
    await templates.putLayout('p1', { html: '<main>{{{content}}}</main>' });
    await channel.send(emailNotification('n-plain', 'u3', { title: 'Tonight', body: 'R&B' }));
    expect(sentTo('n-plain')[0]).toMatchObject({
      subject: 'Tonight',
      html: '<main><h1>Tonight</h1>\n<p>R&amp;B</p></main>',
      text: 'Tonight\n\nR&B',
    });
    const before = sg.received;
    const missing = emailNotification('n-missing', 'u3', { template: 'nope' });
    expect(await channel.send(missing)).toEqual({
      status: 'failed',
      reason: 'template_not_found: nope',
    });
    expect(sg.received).toBe(before);
    await state.close();
  });

  it('gives every email but a critical one its one-click unsubscribe link (RFC 8058)', async () => {
    const state = openLmdbStateStore(newPath());
    const unsubscribe = createUnsubscribeLinks({
      baseUrl: 'https://mail.example.test',
      secrets: ['a-secret-of-at-least-32-characters-0001'],
    });
    const { channel, preferences, templates } = await setup(state, { unsubscribe });
    await preferences.put('p1', 'u7', { email: 'fan7@example.com' });
    await templates.put('p1', 'news', 'en', {
      subject: 'News',
      html: '<p>News</p><a href="{{unsubscribeUrl}}">Unsubscribe</a>',
      text: 'News. Unsubscribe: {{unsubscribeUrl}}',
    });
    const link = unsubscribe.url({ project: 'p1', userId: 'u7', category: 'shows' });
    await channel.send(emailNotification('n-news', 'u7', { template: 'news' }));
    const [news] = sentTo('n-news');
    expect(news!.headers).toMatchObject({
      'List-Unsubscribe': `<${link}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(news!.html).toContain(`<a href="${link}">`);
    expect(news!.text).toBe(`News. Unsubscribe: ${link}`);

    await channel.send(emailNotification('n-alert', 'u7', { priority: 'critical' }));
    const [alert] = sentTo('n-alert');
    expect(alert!.headers['List-Unsubscribe']).toBeUndefined();
    expect(alert!.headers['List-Unsubscribe-Post']).toBeUndefined();
    await state.close();
  });

  it('answers retry with afterMs past the rate limit, and waits within maxWaitMs', async () => {
    // The rate limit's clock (performance.now) and its wait (setTimeout) stand still unless
    // the test moves them, so a slow send cannot refill the bucket behind the test's back.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const state = openLmdbStateStore(newPath());
    const strict = await setup(state, { rateLimit: { perSecond: 1, burst: 1, maxWaitMs: 0 } });
    await strict.preferences.put('p1', 'u4', { email: 'fan4@example.com' });
    expect(await strict.channel.send(emailNotification('n-r1', 'u4'))).toMatchObject({
      status: 'delivered',
    });
    const limited = await strict.channel.send(emailNotification('n-r2', 'u4'));
    expect(limited).toEqual({ status: 'retry', reason: 'rate_limited: email', afterMs: 1000 });
    expect(sentTo('n-r2')).toEqual([]);

    // 5/s with a burst of 1: the second send waits its 200 ms turn, then goes.
    const patient = await setup(state, { rateLimit: { perSecond: 5, burst: 1, maxWaitMs: 1000 } });
    await patient.channel.send(emailNotification('n-r3', 'u4'));
    let second: Awaited<ReturnType<typeof patient.channel.send>> | undefined;
    const sending = patient.channel.send(emailNotification('n-r4', 'u4')).then((r) => {
      second = r;
    });
    await vi.waitFor(() => expect(vi.getTimerCount()).toBe(1)); // waiting for its turn
    await vi.advanceTimersByTimeAsync(199);
    expect(second).toBeUndefined();
    expect(sentTo('n-r4')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await sending;
    expect(second).toMatchObject({ status: 'delivered' });
    expect(sentTo('n-r4')).toHaveLength(1);
    await state.close();
  });

  it('sends once: a repeat after delivery, and a retry after a 429, send no duplicate', async () => {
    const state = openLmdbStateStore(newPath());
    const { channel, preferences } = await setup(state);
    await preferences.put('p1', 'u5', { email: 'fan5@example.com' });
    const n = emailNotification('n-once', 'u5');
    sg.script({ status: 429, retryAfterS: 2 });
    expect(await channel.send(n)).toMatchObject({ status: 'retry', afterMs: 2000 });
    expect(await channel.send(n)).toMatchObject({ status: 'delivered', detail: /^sendgrid 202/ });
    expect(await channel.send(n)).toMatchObject({
      status: 'delivered',
      detail: /^already sent: sendgrid 202/,
    });
    expect(sentTo('n-once')).toHaveLength(1);
    await state.close();
  });

  it('does not send twice after a crash between the provider accepting and the record', async () => {
    const path = newPath();
    let state = openLmdbStateStore(path);
    const first = await setup(state);
    await first.preferences.put('p1', 'u6', { email: 'fan6@example.com' });
    const n = emailNotification('n-crash', 'u6');
    // The process "dies" right after SendGrid accepted: the answer never comes back.
    const real = createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url });
    const dying: EmailProvider = {
      name: 'sendgrid',
      send: (messages) => real.send(messages).then(() => new Promise(() => {})),
    };
    const crashed = await setup(state, { provider: dying });
    void crashed.channel.send(n);
    await eventually(() => sentTo('n-crash').length === 1, 5000, 'SendGrid to accept');
    await state.close();

    // Restart on the same LMDB folder; the delivery retry timer tries again.
    state = openLmdbStateStore(path);
    let clock = Date.now();
    const restarted = await setup(state, {}, { confirmWindowMs: 60_000 }, () => clock);
    const retry = await restarted.channel.send(n);
    expect(retry).toMatchObject({ status: 'retry', reason: /^unconfirmed/ });
    expect(retry.status === 'retry' && retry.afterMs).toBeLessThanOrEqual(60_000);
    expect(sentTo('n-crash')).toHaveLength(1);

    // SendGrid's signed event names the notification: the send is confirmed, not repeated.
    const signer = createWebhookSigner();
    const webhook = createSendGridWebhook({
      publicKey: signer.publicKey,
      ingestEvents: () => undefined,
      suppressions: restarted.suppressions,
      records: restarted.records,
      recordSuppression: () => undefined,
    });
    const body = JSON.stringify([sendgridEvent('processed', sentTo('n-crash')[0]!)]);
    const headers = signer.headers(body);
    await webhook.handle(
      Buffer.from(body),
      headers['x-twilio-email-event-webhook-signature'],
      headers['x-twilio-email-event-webhook-timestamp'],
    );
    expect(await restarted.channel.send(n)).toEqual({
      status: 'delivered',
      detail: 'already sent: sendgrid event: processed',
    });
    expect(sentTo('n-crash')).toHaveLength(1);

    // Without any event within the window, the interrupted send fails rather than repeat.
    const m = emailNotification('n-crash-2', 'u6');
    await restarted.records.begin('p1', m.id);
    clock += 60_000;
    expect(await restarted.channel.send(m)).toMatchObject({
      status: 'failed',
      reason: /^unconfirmed/,
    });
    expect(sentTo('n-crash-2')).toEqual([]);
    await state.close();
  });
});
