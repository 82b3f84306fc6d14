import webpush from 'web-push';
import { createEmailChannel } from '../src/notify/channels/email/email.js';
import { createWebPushChannel } from '../src/notify/channels/web-push/web-push.js';
import type { Channel } from '../src/notify/channel.js';
import { exampleTemplates, seedTemplates } from '../src/demo/example-templates.js';
import { createSendGridProvider } from '../src/notify/channels/email/sendgrid-provider.js';
import { createSendRecords } from '../src/notify/channels/email/send-records.js';
import { createSuppressions } from '../src/notify/channels/email/suppressions.js';
import { createEmailTemplates } from '../src/notify/channels/email/templates.js';
import type { Notification } from '../src/notify/notification.js';
import { createPreferences } from '../src/notify/preferences.js';
import {
  createPushSubscriptions,
  parsePushSubscription,
} from '../src/notify/channels/web-push/push-subscriptions.js';
import { createMemoryStateStore } from '../src/state/memory-state-store.js';
import { doubleEndpoints, startPushService } from '../test/helpers/push-service.js';
import { startSendGridServer } from '../test/helpers/sendgrid-server.js';
import { byCode, count } from './number-format.js';
import type { BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';

const name = 'notification-channels';
const project = 'bench';
/** The issue's original floor: 10,000 emails an hour. */
const floorPerSecond = 10_000 / 3600;

interface Plan {
  users: number;
  warmup: number;
  sends: number;
  /** Sends awaiting their answer at once. */
  inflight: number;
  /** The measured sends stop here even if `sends` are not all done. */
  maxMs: number;
}

interface ChannelRun extends Plan {
  channel: string;
  attempted: number;
  delivered: number;
  outcomes: Record<string, number>;
  seconds: number;
  sendsPerSecond: number;
  /** This process's CPU (channel and double together) per wall second; 1 = one core. */
  cpuCores: number;
}

/**
 * The notifications II issue: web push and email sends per second through the real channels
 * (encryption, VAPID signing, rendering, batching and the at-most-once records included),
 * driven in this process against the loopback doubles the tests use, next to the floor the
 * issue started from (10,000 emails an hour).
 */
export const notificationChannels: Scenario = { name, run: runNotificationChannels };

async function runNotificationChannels(options: BenchOptions): Promise<ScenarioResult> {
  const seconds = options.quick ? 1.5 : options.measureSeconds;
  const push: Plan = options.quick
    ? { users: 20, warmup: 10, sends: 100, inflight: 16, maxMs: seconds * 1000 }
    : { users: 1000, warmup: 200, sends: 20_000, inflight: 32, maxMs: seconds * 1000 };
  const email: Plan = options.quick
    ? { users: 200, warmup: 100, sends: 1000, inflight: 500, maxMs: seconds * 1000 }
    : { users: 10_000, warmup: 2000, sends: 200_000, inflight: 2000, maxMs: seconds * 1000 };
  const commands = [
    'push and email: this process, against test/helpers/push-service.ts and sendgrid-server.ts',
  ];
  const runs: ChannelRun[] = [];
  try {
    runs.push(await measurePush(push));
    runs.push(await measureEmail(email));
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const short = runs.filter((r) => r.attempted === 0 || r.delivered < r.attempted);
  return {
    scenario: name,
    ok: short.length === 0,
    ...(short.length > 0
      ? { failure: short.map((r) => `${r.channel}: ${byCode(r.outcomes)}`).join('; ') }
      : {}),
    figures: { floorPerSecond, runs },
    table: runs.flatMap(rows),
    commands,
    notes: notes(push, email),
  };
}

async function measurePush(plan: Plan): Promise<ChannelRun> {
  const service = await startPushService();
  try {
    const subscriptions = createPushSubscriptions(createMemoryStateStore());
    const keys = webpush.generateVAPIDKeys();
    const vapid = { ...keys, subject: 'mailto:bench@backline.invalid' };
    for (let u = 0; u < plan.users; u += 1) {
      const { subscription } = service.subscribe({ applicationServerKey: vapid.publicKey });
      await subscriptions.add(project, `u${u}`, parsePushSubscription(subscription));
    }
    const channel = createWebPushChannel({ subscriptions, vapid, endpoints: doubleEndpoints });
    return await drive('web push', channel, plan, (n) => ({ dedupKey: `show-${n % 50}` }));
  } finally {
    await service.close();
  }
}

async function measureEmail(plan: Plan): Promise<ChannelRun> {
  const sendgrid = await startSendGridServer();
  const provider = createSendGridProvider({ apiKey: sendgrid.apiKey }, { baseUrl: sendgrid.url });
  try {
    const state = createMemoryStateStore();
    const templates = createEmailTemplates(state);
    const preferences = createPreferences(state);
    await seedTemplates(templates, project, exampleTemplates);
    for (let u = 0; u < plan.users; u += 1)
      await preferences.put(project, `u${u}`, { email: `fan${u}@example.com` });
    const channel = createEmailChannel({
      templates,
      preferences,
      suppressions: createSuppressions(state),
      records: createSendRecords(state),
      provider,
      from: { email: 'news@backline.example', name: 'backline' },
      // The production default (500/s) is the limit being measured against, not the channel.
      rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
    });
    const props = {
      issue: 12,
      subject: 'Festival season',
      teaser: 'Ten shows',
      url: 'https://backline.example/n/12',
    };
    return await drive('email', channel, plan, () => ({
      template: 'newsletter',
      variables: { props },
    }));
  } finally {
    await provider.close?.();
    await sendgrid.close();
  }
}

/** Warms up, then keeps `inflight` sends going until `sends` are done or `maxMs` passed. */
async function drive(
  label: string,
  channel: Channel,
  plan: Plan,
  fields: (n: number) => Partial<Notification>,
): Promise<ChannelRun> {
  const outcomes: Record<string, number> = {};
  let next = 0;
  const round = async (total: number, deadline: number) => {
    const worker = async () => {
      while (next < total && performance.now() < deadline) {
        const n = next++;
        const result = await channel.send(notification(label, n, plan.users, fields(n)));
        const key =
          result.status === 'delivered' ? 'delivered' : `${result.status}: ${result.reason}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: plan.inflight }, worker));
  };
  await round(plan.warmup, performance.now() + plan.maxMs);
  for (const key of Object.keys(outcomes)) delete outcomes[key];
  const warmed = next;
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  await round(warmed + plan.sends, start + plan.maxMs);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const attempted = next - warmed;
  const delivered = outcomes.delivered ?? 0;
  return {
    channel: label,
    ...plan,
    attempted,
    delivered,
    outcomes,
    seconds,
    sendsPerSecond: delivered / seconds,
    cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

function notification(
  label: string,
  n: number,
  users: number,
  fields: Partial<Notification>,
): Notification {
  return {
    id: `${label.replace(' ', '-')}-${n}`,
    ts: Date.now(),
    project,
    userId: `u${n % users}`,
    rule: 'bench',
    category: 'news',
    title: `Update ${n}`,
    body: 'Doors at eight; the support act starts at 19:30.',
    data: { showId: `s${n % 50}` },
    priority: 'normal',
    dedupKey: undefined,
    channels: ['web_push', 'email'],
    template: undefined,
    variables: {},
    ...fields,
  };
}

function rows(r: ChannelRun): ScenarioResult['table'] {
  const times = r.sendsPerSecond / floorPerSecond;
  return [
    [
      `**${r.channel}: sends/s** (× the 10,000 emails/h floor)`,
      `${count(r.sendsPerSecond)} (${count(times)}×)`,
    ],
    [
      `${r.channel}: delivered / attempted in ${r.seconds.toFixed(2)} s; ${count(r.users)} users, ${count(r.inflight)} in flight`,
      `${count(r.delivered)} / ${count(r.attempted)}; ${byCode(r.outcomes)}`,
    ],
    [`${r.channel}: process CPU (channel + double; 1 = one core)`, r.cpuCores.toFixed(2)],
  ];
}

function notes(push: Plan, email: Plan): string[] {
  return [
    'Both channels run in the bench process, as the router calls them, against the loopback ' +
      'doubles of the tests, so the process also pays for the doubles: the push service checks ' +
      'each VAPID JWT and decrypts each aes128gcm payload, the SendGrid double parses and ' +
      'validates each request against the v3 schema. The figures are a lower bound on the ' +
      'channels alone; a real push service or SendGrid adds network latency, not CPU here.',
    `Web push: ${count(push.users)} users with one subscription each (memory StateStore), ` +
      `${push.inflight} sends in flight; each send encrypts for its subscription (RFC 8291, a ` +
      'fresh ECDH key) and signs a VAPID JWT.',
    `Email: ${count(email.users)} users with an address, a newsletter campaign (the example ` +
      `\`newsletter\` template) with ${count(email.inflight)} sends in flight, so the batcher ` +
      'sends requests of up to 1,000 personalizations; each send renders the template, checks ' +
      'suppressions and writes the at-most-once `sending`/`sent` records. The rate limit ' +
      '(default 500/s, `email.rateLimit.perSecond`) is raised out of the way.',
  ];
}
