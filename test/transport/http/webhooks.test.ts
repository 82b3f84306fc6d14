import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { us_listen_socket } from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/compose/config.js';
import { createDedupWindow } from '../../../src/ingest/dedup-window.js';
import { createIngest } from '../../../src/ingest/ingest-service.js';
import { createLocalAcceptance } from '../../../src/ingest/local-acceptance.js';
import { createEmailChannel } from '../../../src/notify/channels/email/email.js';
import type { DecisionRow } from '../../../src/model/decision.js';
import { createDecisionLog, type DecisionLog } from '../../../src/notify/decision-log.js';
import { createSendRecords } from '../../../src/notify/channels/email/send-records.js';
import { createSendGridProvider } from '../../../src/notify/channels/email/sendgrid-provider.js';
import { createSuppressions } from '../../../src/notify/channels/email/suppressions.js';
import { createEmailTemplates } from '../../../src/notify/channels/email/templates.js';
import {
  createSendGridWebhook,
  decisionRecorder,
} from '../../../src/notify/channels/email/webhook.js';
import { createPreferences } from '../../../src/notify/preferences.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createMemoryStateStore } from '../../../src/state/memory-state-store.js';
import { createBatchWriter, type BatchWriter } from '../../../src/storage/batch-writer.js';
import { openChdb } from '../../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../../src/storage/clickhouse.js';
import { createDecisionStore, decisionsTable } from '../../../src/storage/decision-store.js';
import { createEventStore, eventsTable } from '../../../src/storage/event-store.js';
import type { EventRow } from '../../../src/model/event.js';
import { migrate } from '../../../src/storage/migrate.js';
import { openSpool } from '../../../src/storage/spool.js';
import { registerHttpWebhooks } from '../../../src/transport/http/webhooks.js';
import { loadUws } from '../../../src/transport/uws.js';
import { emailNotification, sender } from '../../helpers/email-fixtures.js';
import {
  createWebhookSigner,
  sendgridEvent,
  startSendGridServer,
  type SendGridServer,
} from '../../helpers/sendgrid-server.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-webhooks-'));
const log = pino({ level: 'silent' });
const signer = createWebhookSigner();
const state = createMemoryStateStore();
const preferences = createPreferences(state);
const suppressions = createSuppressions(state);
const records = createSendRecords(state);
let ch: ClickHouse;
let writers: Array<BatchWriter<DecisionRow> | BatchWriter<EventRow>>;
let decisions: DecisionLog;
let ingest: ReturnType<typeof createIngest>;
let sg: SendGridServer;
let url: string;
let close: () => void;

beforeAll(async () => {
  ch = openChdb(join(dir, 'ch'));
  await migrate(ch);
  const metrics = createMetrics();
  const writer = <Row extends object>(table: string, name: string) =>
    createBatchWriter<Row>(
      {
        table,
        insert: (rows, dedupToken, timeoutMs) => ch.insert(table, rows, { dedupToken, timeoutMs }),
        spool: openSpool(join(dir, name)),
        metrics,
        log,
      },
      { flushIntervalMs: 10 },
    );
  const decisionWriter = writer<DecisionRow>(decisionsTable, 'spool-decisions');
  const eventWriter = writer<EventRow>(eventsTable, 'spool-events');
  writers = [decisionWriter, eventWriter];
  for (const w of writers) await w.start();
  decisions = createDecisionLog({
    writer: decisionWriter,
    store: createDecisionStore(ch),
    metrics,
  });
  const { limits } = configSchema.parse({});
  const acceptance = createLocalAcceptance({ writer: eventWriter, dedup: createDedupWindow() });
  ingest = createIngest({ acceptance, metrics, limits });
  const webhook = createSendGridWebhook({
    publicKey: signer.publicKey,
    ingestEvents: (project, events) => ingest.accept(project, events).durable,
    suppressions,
    records,
    recordSuppression: decisionRecorder(decisions),
    knownProject: (project) => project === 'p1',
    log,
  });
  const { uws } = loadUws(false);
  const app = uws.App();
  registerHttpWebhooks(app, { sendgrid: webhook, metrics, log });
  const socket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('cannot listen')))),
  );
  url = `http://127.0.0.1:${uws.us_socket_local_port(socket as never)}/v1/webhooks/sendgrid`;
  close = () => uws.us_listen_socket_close(socket);
  sg = await startSendGridServer();
});
afterAll(async () => {
  close();
  await sg.close();
  for (const w of writers) await w.stop();
  await ch.close();
});

async function post(body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('POST /v1/webhooks/sendgrid', () => {
  it('accepts a signed batch: events reach the stream, a bounce disables the user and is logged', async () => {
    await preferences.put('p1', 'u1', { email: 'fan1@example.com' });
    const channel = createEmailChannel({
      templates: createEmailTemplates(state),
      preferences,
      suppressions,
      records,
      provider: createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url }),
      from: sender,
    });
    expect(await channel.send(emailNotification('n-1', 'u1'))).toMatchObject({
      status: 'delivered',
    });
    const [message] = sg.messages;
    const events = [
      sendgridEvent('delivered', message!),
      sendgridEvent('open', message!),
      sendgridEvent('bounce', message!, { type: 'bounce', reason: '550 5.1.1 no such user' }),
    ];
    const body = JSON.stringify(events);
    const res = await post(body, signer.headers(body));
    expect(res).toEqual({
      status: 200,
      json: { events: 3, tracked: 3, suppressed: 1, ignored: 0 },
    });
    expect(await channel.reachable('p1', 'u1')).toBe(false);

    await ingest.durable();
    const counts = await createEventStore(ch).countByType(
      'p1',
      Date.now() - 60_000,
      Date.now() + 1,
    );
    expect(counts).toEqual([
      { type: 'email.bounce', count: 1 },
      { type: 'email.delivered', count: 1 },
      { type: 'email.open', count: 1 },
    ]);
    const [row] = await ch.query<{ template: string; user_id: string }>(
      `SELECT JSONExtractString(props, 'template') AS template, user_id FROM events
       WHERE project = 'p1' AND type = 'email.open'`,
    );
    expect(row).toEqual({ template: 'default', user_id: 'u1' });

    await decisions.durable();
    const logged = await decisions.query('p1', 'u1', { notification: 'n-1' });
    expect(logged.find((d) => d.outcome === 'suppressed')).toMatchObject({
      channel: 'email',
      reason: 'email_disabled: bounce (550 5.1.1 no such user)',
    });
  });

  it('refuses unsigned, tampered and stale webhooks with 401 BAD_SIGNATURE', async () => {
    const event = sendgridEvent('spamreport', {
      to: 'fan2@example.com',
      messageId: 'm2',
      customArgs: { notification_id: 'n-2', project: 'p1', user_id: 'u2', template: 'show' },
    });
    const body = JSON.stringify([event]);
    const signed = signer.headers(body);
    const refused = { status: 401, json: expect.objectContaining({ code: 'BAD_SIGNATURE' }) };
    expect(await post(body, { 'content-type': 'application/json' })).toEqual(refused);
    expect(await post(body.replace('"u2"', '"u3"'), signed)).toEqual(refused);
    const stale = signer.headers(body, Date.now() - 10 * 60_000);
    expect(await post(body, stale)).toEqual(refused);
    const other = createWebhookSigner().headers(body);
    expect(await post(body, other)).toEqual(refused);
    expect(await suppressions.get('p1', 'u2')).toBeUndefined();
    expect(await post(body, signed)).toMatchObject({ status: 200, json: { suppressed: 1 } });
  });

  it('ignores events of other projects and of mail backline did not send', async () => {
    const body = JSON.stringify([
      sendgridEvent('open', { to: 'x@example.com', messageId: 'm', customArgs: {} }),
      sendgridEvent('open', {
        to: 'x@example.com',
        messageId: 'm',
        customArgs: { notification_id: 'n', project: 'elsewhere', user_id: 'u', template: 't' },
      }),
    ]);
    expect(await post(body, signer.headers(body))).toEqual({
      status: 200,
      json: { events: 2, tracked: 0, suppressed: 0, ignored: 2 },
    });
  });
});
