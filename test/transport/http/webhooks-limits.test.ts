import { pino } from 'pino';
import type { us_listen_socket } from 'uWebSockets.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createSendRecords } from '../../../src/notify/channels/email/send-records.js';
import { createSuppressions } from '../../../src/notify/channels/email/suppressions.js';
import {
  createSendGridWebhook,
  type TrackingEvent,
} from '../../../src/notify/channels/email/webhook.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createMemoryStateStore } from '../../../src/state/memory-state-store.js';
import { registerHttpWebhooks, type WebhookLimits } from '../../../src/transport/http/webhooks.js';
import { loadUws } from '../../../src/transport/uws.js';
import { eventually } from '../../helpers/eventually.js';
import { openRequest, within, type RawRequest } from '../../helpers/raw-request.js';
import { createWebhookSigner, sendgridEvent } from '../../helpers/sendgrid-server.js';

const route = '/v1/webhooks/sendgrid';
const KiB = 1024;
const MiB = 1024 * KiB;
const bound = 10_000; // longest a test waits for an answer that should come at once
const log = pino({ level: 'silent' });
const signer = createWebhookSigner();
const state = createMemoryStateStore();
const open: RawRequest[] = [];
const stops: Array<() => void> = [];

afterEach(() => {
  for (const r of open.splice(0)) r.destroy();
  for (const stop of stops.splice(0)) stop();
});

/** The webhook route on its own real uWS app on loopback, with `limits`. */
async function startApp(limits: Partial<WebhookLimits> = {}) {
  const metrics = createMetrics();
  const ingested: TrackingEvent[] = [];
  const webhook = createSendGridWebhook({
    publicKey: signer.publicKey,
    ingestEvents: (_project, events) => ingested.push(...events),
    suppressions: createSuppressions(state),
    records: createSendRecords(state),
    recordSuppression: () => undefined,
    knownProject: (project) => project === 'p1',
    log,
  });
  const { uws } = loadUws(false);
  const app = uws.App();
  registerHttpWebhooks(app, { sendgrid: webhook, metrics, log }, limits);
  const socket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('cannot listen')))),
  );
  stops.push(() => uws.us_listen_socket_close(socket));
  const port = uws.us_socket_local_port(socket as never);
  return {
    ingested,
    request(headers: Record<string, string>) {
      const r = openRequest(port, route, headers);
      open.push(r);
      return r;
    },
    /** `backline_webhook_refused_total{reason}` as /metrics shows it. */
    async refused(reason: string) {
      const metric = await metrics.registry
        .getSingleMetric('backline_webhook_refused_total')
        ?.get();
      return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
    },
  };
}

const batch = (n: number, padding = 0) =>
  JSON.stringify(
    Array.from({ length: n }, (_, i) =>
      sendgridEvent(
        'open',
        {
          to: `fan${i}@example.com`,
          messageId: `m${i}`,
          customArgs: { notification_id: `n-${i}`, project: 'p1', user_id: `u${i}`, template: 't' },
        },
        { useragent: 'x'.repeat(padding) },
      ),
    ),
  );

/** Headers of a request SendGrid signed just now for `body`, declaring its length. */
const signed = (body: string) => ({
  ...signer.headers(body),
  'content-length': String(Buffer.byteLength(body)),
});

const closedWithin = (r: RawRequest) =>
  within(
    r.closed.then(() => 'closed'),
    bound,
  );

describe('POST /v1/webhooks/sendgrid refuses what it cannot verify before reading it', () => {
  it('answers 401 BAD_SIGNATURE to a request without signature headers before its body is sent', async () => {
    const app = await startApp();
    const r = app.request({
      'content-type': 'application/json',
      'content-length': String(4 * MiB),
    });
    const answer = await within(r.answer, bound);
    expect(answer).toMatchObject({ status: 401, json: { code: 'BAD_SIGNATURE' } });
    expect(answer?.headers.connection).toBe('close');
    expect(r.sent).toBe(0);
    expect(await closedWithin(r)).toBe('closed');
    expect(await app.refused('unsigned')).toBe(1);
  });

  it('answers 401 BAD_SIGNATURE to a stale timestamp before the body is sent', async () => {
    const app = await startApp();
    const body = batch(1);
    const stale = signer.headers(body, Date.now() - 10 * 60_000);
    const r = app.request({ ...stale, 'content-length': String(body.length) });
    expect(await within(r.answer, bound)).toMatchObject({
      status: 401,
      json: { code: 'BAD_SIGNATURE' },
    });
    expect(r.sent).toBe(0);
    expect(await app.refused('stale')).toBe(1);
  });

  it('answers 413 FRAME_TOO_LARGE to a declared length over the cap before the body is sent', async () => {
    const app = await startApp();
    const r = app.request({ ...signer.headers('[]'), 'content-length': String(4 * MiB) });
    const answer = await within(r.answer, bound);
    expect(answer).toMatchObject({ status: 413, json: { code: 'FRAME_TOO_LARGE' } });
    expect(answer?.headers.connection).toBe('close');
    expect(r.sent).toBe(0);
    expect(await app.refused('too_large')).toBe(1);
  });

  it('answers 413 to a chunked body once it passes 256 KiB, without waiting for the rest', async () => {
    const app = await startApp();
    const r = app.request({ ...signer.headers('[]'), 'transfer-encoding': 'chunked' });
    const chunk = Buffer.alloc(64 * KiB, 0x20);
    for (let i = 0; i < 5; i++) await r.sendChunk(chunk); // 320 KiB; the body never ends
    const answer = await within(r.answer, bound);
    expect(answer).toMatchObject({ status: 413, json: { code: 'FRAME_TOO_LARGE' } });
    expect(await closedWithin(r)).toBe('closed');
    expect(await app.refused('too_large')).toBe(1);
  });

  it('drops a body that has not arrived within bodyTimeoutMs, without an answer', async () => {
    const app = await startApp({ bodyTimeoutMs: 300 });
    const body = batch(1);
    const r = app.request(signed(body));
    await r.send(body.slice(0, 10));
    expect(await closedWithin(r)).toBe('closed');
    expect(await r.answer).toBeUndefined();
    expect(await app.refused('timeout')).toBe(1);
  });

  it('answers 503 WEBHOOK_BUSY with Retry-After past 16 bodies in flight, and takes bodies again once they end', async () => {
    const app = await startApp();
    const requests = Array.from({ length: 20 }, () => app.request(signed('[]')));
    const answered: RawRequest[] = [];
    for (const r of requests) void r.answer.then((a) => a && answered.push(r));
    await eventually(() => answered.length === 4, bound, '4 requests answered at their headers');
    for (const r of answered) {
      const answer = await r.answer;
      expect(answer).toMatchObject({ status: 503, json: { code: 'WEBHOOK_BUSY' } });
      expect(answer?.headers['retry-after']).toBe('1');
    }
    const waiting = requests.filter((r) => !answered.includes(r));
    for (const r of waiting) await r.send('[]');
    const answers = await Promise.all(waiting.map((r) => within(r.answer, bound)));
    expect(answers.map((a) => a?.status)).toEqual(Array(16).fill(200));
    const again = app.request(signed('[]'));
    await again.send('[]');
    expect(await within(again.answer, bound)).toMatchObject({ status: 200, json: { events: 0 } });
    expect(await app.refused('busy')).toBe(4);
  });

  it('still takes a signed batch of 200 KB', async () => {
    const app = await startApp();
    const body = batch(400, 350);
    expect(body.length).toBeGreaterThan(200 * KiB);
    const r = app.request(signed(body));
    await r.send(body);
    expect(await within(r.answer, bound)).toMatchObject({
      status: 200,
      json: { events: 400, tracked: 400, ignored: 0 },
    });
    expect(app.ingested).toHaveLength(400);
  });

  it('holds at most 16 capped bodies while 64 senders stream 4 MiB each, signed or not', async () => {
    const app = await startApp();
    const chunk = Buffer.alloc(64 * KiB, 0x20);
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 5);
    const unsigned = { 'content-type': 'application/json', 'transfer-encoding': 'chunked' };
    const fresh = { ...signer.headers('[]'), 'transfer-encoding': 'chunked' };
    const requests = Array.from({ length: 64 }, (_, i) => app.request(i % 2 ? fresh : unsigned));
    // The 32 unsigned and the 16 over the bound are refused at their headers; only then do the
    // bodies flow, so no slot frees up while headers are still arriving.
    let early = 0;
    for (const r of requests) void r.answer.then((a) => a && (early += 1));
    await eventually(() => early === 48, bound, '48 requests refused at their headers');
    const stream = async (r: RawRequest) => {
      for (let sent = 0; sent < 4 * MiB; sent += chunk.length)
        if (!(await r.sendChunk(chunk))) return;
      await r.send('0\r\n\r\n');
    };
    await Promise.all(requests.map(stream));
    const answers = await Promise.all(requests.map((r) => within(r.answer, bound)));
    clearInterval(sampler);
    const codes = answers.map((a) => `${a?.status} ${a?.json?.code}`);
    expect(codes.filter((c) => c === '401 BAD_SIGNATURE')).toHaveLength(32);
    expect(codes.filter((c) => c === '503 WEBHOOK_BUSY')).toHaveLength(16);
    expect(codes.filter((c) => c === '413 FRAME_TOO_LARGE')).toHaveLength(16);
    expect([await app.refused('unsigned'), await app.refused('busy')]).toEqual([32, 16]);
    // 16 bodies × 256 KiB is 4 MiB; 64 × 4 MiB buffered would be 256 MiB.
    expect(peak - baseline).toBeLessThan(32 * MiB);
  });
});
