import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../../src/compose/config.js';
import { validateEvent } from '../../../../src/ingest/validate-event.js';
import { createSendRecords } from '../../../../src/notify/channels/email/send-records.js';
import { createSuppressions } from '../../../../src/notify/channels/email/suppressions.js';
import {
  createSendGridWebhook,
  type TrackingEvent,
} from '../../../../src/notify/channels/email/webhook.js';
import { toStreamEvent, type StreamEvent } from '../../../../src/model/event.js';
import { streamPipeline } from '../../../../src/pipeline/stream-pipeline.js';
import { streamSpecSchema } from '../../../../src/pipeline/stream-spec.js';
import { createMemoryStateStore } from '../../../../src/state/memory-state-store.js';
import { createWebhookSigner, sendgridEvent } from '../../../helpers/sendgrid-server.js';

const { limits } = configSchema.parse({});

const sent = (i: number) => ({
  to: `fan${i}@example.com`,
  messageId: `msg${i}`,
  customArgs: { notification_id: `n-${i}`, project: 'p1', user_id: `u${i}`, template: 'show' },
});

function setup(now = Date.now) {
  const state = createMemoryStateStore();
  const signer = createWebhookSigner();
  const ingested: Array<[string, TrackingEvent[]]> = [];
  const recorded: string[][] = [];
  const suppressions = createSuppressions(state);
  const records = createSendRecords(state);
  const webhook = createSendGridWebhook(
    {
      publicKey: signer.publicKey,
      ingestEvents: (project, events) => ingested.push([project, events]),
      suppressions,
      records,
      recordSuppression: (...args) => recorded.push(args),
    },
    {},
    now,
  );
  const post = (events: unknown[], at?: number) => {
    const body = JSON.stringify(events);
    const headers = signer.headers(body, at);
    return webhook.handle(
      Buffer.from(body),
      headers['x-twilio-email-event-webhook-signature'],
      headers['x-twilio-email-event-webhook-timestamp'],
    );
  };
  return { webhook, signer, ingested, recorded, suppressions, records, post };
}

describe('SendGrid event webhook', () => {
  it('turns signed events into stream events that pass ingest validation', async () => {
    const { ingested, post } = setup();
    const result = await post([
      sendgridEvent('delivered', sent(1)),
      sendgridEvent('open', sent(1)),
      sendgridEvent('click', sent(1), { url: 'https://backline.example/shows/7' }),
      sendgridEvent('open', { to: 'x@example.com', messageId: 'other', customArgs: {} }),
      sendgridEvent('machine_opened', sent(1)),
    ]);
    expect(result).toEqual({ events: 5, tracked: 3, suppressed: 0, ignored: 2 });
    expect(ingested).toHaveLength(1);
    const [project, events] = ingested[0]!;
    expect(project).toBe('p1');
    expect(events.map((e) => [e.type, e.userId, e.props])).toEqual([
      ['email.delivered', 'u1', { notificationId: 'n-1', template: 'show', delivered: 1 }],
      ['email.open', 'u1', { notificationId: 'n-1', template: 'show', open: 1 }],
      [
        'email.click',
        'u1',
        {
          notificationId: 'n-1',
          template: 'show',
          click: 1,
          url: 'https://backline.example/shows/7',
        },
      ],
    ]);
    for (const event of events)
      expect(validateEvent(event, 'p1', Date.now(), limits).ok).toBe(true);
  });

  it('feeds a metric stream that counts deliveries, opens and clicks per template', async () => {
    const { ingested, post } = setup();
    const other = { ...sent(2), customArgs: { ...sent(2).customArgs, template: 'digest' } };
    await post([
      sendgridEvent('delivered', sent(1)),
      sendgridEvent('delivered', sent(3)),
      sendgridEvent('open', sent(1)),
      sendgridEvent('click', sent(1), { url: 'https://backline.example/x' }),
      sendgridEvent('delivered', other),
    ]);
    // The stream from the README's "Email" section.
    const spec = streamSpecSchema.parse({
      name: 'email_engagement',
      source: { types: ['email.delivered', 'email.open', 'email.click'] },
      groupBy: ['props.template'],
      window: { kind: 'tumbling', sizeMs: 3600_000 },
      aggregates: [
        { name: 'delivered', fn: 'count', field: 'props.delivered' },
        { name: 'opens', fn: 'count', field: 'props.open' },
        { name: 'clicks', fn: 'count', field: 'props.click' },
      ],
    });
    const now = Date.now();
    const events = ingested[0]![1].map((e): StreamEvent => {
      const checked = validateEvent(e, 'p1', now, limits);
      if (!checked.ok) throw new Error(checked.msg);
      return toStreamEvent(checked.row, checked.props);
    });
    // An event hours later moves the watermark past the hour, so the window closes.
    const later = { ...events[0]!, id: 'later', ts: now + 3 * 3600_000 };
    const results = await lastValueFrom(
      from([events, [later]]).pipe(streamPipeline(spec), toArray()),
    );
    const byTemplate = Object.fromEntries(results.flat().map((r) => [r.key, r.values]));
    expect(byTemplate).toEqual({
      show: { delivered: 2, opens: 1, clicks: 1 },
      digest: { delivered: 1, opens: 0, clicks: 0 },
    });
  });

  it('disables email on a bounce, once, and records why', async () => {
    const { recorded, suppressions, post } = setup();
    const bounce = sendgridEvent('bounce', sent(2), {
      type: 'bounce',
      reason: '550 5.1.1 unknown user',
      status: '5.1.1',
    });
    expect(await post([bounce])).toMatchObject({ suppressed: 1 });
    expect(await post([bounce])).toMatchObject({ suppressed: 0, tracked: 1 }); // SendGrid retried
    expect(recorded).toEqual([
      ['p1', 'u2', 'n-2', 'email_disabled: bounce (550 5.1.1 unknown user)'],
    ]);
    expect(await suppressions.blocks('p1', 'u2', 'fan2@example.com')).toMatchObject({
      reason: 'bounce',
    });
    // A bounce is about the address: a new address in the preferences gets email again.
    expect(await suppressions.blocks('p1', 'u2', 'new@example.com')).toBeUndefined();
  });

  it('disables email for the user on spam reports and unsubscribes, not on a blocked bounce', async () => {
    const { suppressions, post } = setup();
    await post([
      sendgridEvent('bounce', sent(3), { type: 'blocked', reason: '421 try later' }),
      sendgridEvent('spamreport', sent(4)),
      sendgridEvent('unsubscribe', sent(5)),
      sendgridEvent('dropped', sent(6), { reason: 'Bounced Address' }),
    ]);
    expect(await suppressions.get('p1', 'u3')).toBeUndefined();
    expect(await suppressions.blocks('p1', 'u4', 'other@example.com')).toMatchObject({
      reason: 'spamreport',
    });
    expect(await suppressions.blocks('p1', 'u5', 'other@example.com')).toMatchObject({
      reason: 'unsubscribe',
    });
    expect(await suppressions.blocks('p1', 'u6', 'fan6@example.com')).toMatchObject({
      reason: 'dropped',
    });
  });

  it('confirms an interrupted send when SendGrid reports the message', async () => {
    const { records, post } = setup();
    await records.begin('p1', 'n-7');
    await post([sendgridEvent('processed', sent(7))]);
    expect(await records.get('p1', 'n-7')).toMatchObject({
      status: 'sent',
      detail: 'sendgrid event: processed',
    });
  });

  it('refuses unsigned, tampered, stale and malformed requests with BAD_SIGNATURE', async () => {
    const { webhook, signer, ingested } = setup();
    const body = JSON.stringify([sendgridEvent('bounce', sent(8))]);
    const ts = String(Math.floor(Date.now() / 1000));
    const good = signer.sign(body, ts);
    const refused = (payload: string, signature?: string, timestamp?: string) =>
      webhook.handle(Buffer.from(payload), signature, timestamp).then(
        () => 'accepted',
        (err: { code: string }) => err.code,
      );
    expect(await refused(body, undefined, undefined)).toBe('BAD_SIGNATURE');
    expect(await refused(body, good, undefined)).toBe('BAD_SIGNATURE');
    expect(await refused(body.replace('u8', 'u9'), good, ts)).toBe('BAD_SIGNATURE');
    expect(await refused(body, good, String(Number(ts) + 1))).toBe('BAD_SIGNATURE');
    expect(await refused(body, 'bm90IGEgc2lnbmF0dXJl', ts)).toBe('BAD_SIGNATURE');
    expect(await refused(body, '%%%', ts)).toBe('BAD_SIGNATURE');
    const stale = String(Math.floor(Date.now() / 1000) - 6 * 60);
    expect(await refused(body, signer.sign(body, stale), stale)).toBe('BAD_SIGNATURE');
    const ahead = String(Math.floor(Date.now() / 1000) + 6 * 60);
    expect(await refused(body, signer.sign(body, ahead), ahead)).toBe('BAD_SIGNATURE');
    expect(ingested).toEqual([]);
    expect(await refused('{"not":"an array"}', signer.sign('{"not":"an array"}', ts), ts)).toBe(
      'BAD_JSON',
    );
    expect(await refused(body, good, ts)).toBe('accepted');
  });

  it('refuses a public key that is not one at start', () => {
    expect(() =>
      createSendGridWebhook({
        publicKey: 'bm90IGEga2V5',
        ingestEvents: () => undefined,
        suppressions: createSuppressions(createMemoryStateStore()),
        records: createSendRecords(createMemoryStateStore()),
        recordSuppression: () => undefined,
      }),
    ).toThrow();
  });
});
