/**
 * A process that delivers email as the server does (LMDB state, persistent retry timers,
 * delivery, the email channel, SendGrid's provider), so a test can `kill -9` it mid-batch
 * and start it again on the same folder. Decisions are printed as JSON lines.
 *
 * env: STATE_DIR, SENDGRID_URL, SENDGRID_KEY, COUNT (first run only), CONFIRM_WINDOW_MS.
 * With COUNT, it makes a first attempt for COUNT notifications, prints `{"ready":"sent"}` and
 * starts its timers when a line arrives on stdin; without, it starts them at once.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createEmailChannel } from '../../src/notify/channels/email/email.js';
import type { Channel } from '../../src/notify/channel.js';
import type { DecisionLog } from '../../src/notify/decision-log.js';
import { createDelivery } from '../../src/notify/delivery.js';
import { createSendRecords } from '../../src/notify/channels/email/send-records.js';
import { createSendGridProvider } from '../../src/notify/channels/email/sendgrid-provider.js';
import { createSuppressions } from '../../src/notify/channels/email/suppressions.js';
import { createEmailTemplates } from '../../src/notify/channels/email/templates.js';
import type { ChannelName } from '../../src/notify/notification.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { createTimers } from '../../src/state/timers.js';
import { emailNotification, sender } from './email-fixtures.js';

const env = process.env as Record<string, string>;
const log = pino({ level: 'silent' });
const state = openLmdbStateStore(env.STATE_DIR!);
const preferences = createPreferences(state);
const timers = createTimers(state, log, { checkEveryMs: 20 });
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const decisions = {
  record: (n: { id: string }, outcome: string, reason: string, _c: string, attempt: number) =>
    print({ id: n.id, outcome, reason, attempt }),
} as unknown as DecisionLog;

const channel = createEmailChannel(
  {
    templates: createEmailTemplates(state),
    preferences,
    suppressions: createSuppressions(state),
    records: createSendRecords(state),
    provider: createSendGridProvider({ apiKey: env.SENDGRID_KEY! }, { baseUrl: env.SENDGRID_URL! }),
    from: sender,
  },
  { confirmWindowMs: Number(env.CONFIRM_WINDOW_MS ?? 600_000) },
);
const delivery = createDelivery(
  { channels: new Map<ChannelName, Channel>([['email', channel]]), timers, decisions, log },
  { retryBaseMs: 100, retryMaxMs: 400 },
);

if (env.COUNT) {
  const ids = Array.from({ length: Number(env.COUNT) }, (_, i) => i);
  for (const i of ids) await preferences.put('p1', `u${i}`, { email: `fan${i}@example.com` });
  await Promise.all(ids.map((i) => delivery.send('email', emailNotification(`n-${i}`, `u${i}`))));
  print({ ready: 'sent' });
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
}
await timers.start();
print({ ready: 'timers' });
