import webpush from 'web-push';
import { createEmailChannel } from '../src/notify/channels/email/email.js';
import { createWebPushChannel } from '../src/notify/channels/web-push/web-push.js';
import type { Channel } from '../src/notify/channel.js';
import { exampleTemplates, seedTemplates } from '../src/demo/example-templates.js';
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
import { startEmailDouble, type EmailProviderName } from './email-doubles.js';

const project = 'bench';

export interface SendPlan {
  users: number;
  warmup: number;
  sends: number;
  /** Sends awaiting their answer at once. */
  inflight: number;
  /** The measured sends stop here even if `sends` are not all done. */
  maxMs: number;
}

export interface ChannelRun extends SendPlan {
  channel: string;
  attempted: number;
  delivered: number;
  outcomes: Record<string, number>;
  seconds: number;
  sendsPerSecond: number;
  /** This process's CPU (channel and double together) per wall second; 1 = one core. */
  cpuCores: number;
}

/** Web push through the real channel (RFC 8291 encryption, VAPID) to the push double. */
export async function measurePush(plan: SendPlan): Promise<ChannelRun> {
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

/** Email through the real channel (rendering, batching, records) and `provider`'s double. */
export async function measureEmail(
  provider: EmailProviderName,
  plan: SendPlan,
): Promise<ChannelRun> {
  const double = await startEmailDouble(provider);
  const client = double.client();
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
      provider: client,
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
    return await drive(`email, ${provider}`, channel, plan, () => ({
      template: 'newsletter',
      variables: { props },
    }));
  } finally {
    await client.close?.();
    await double.close();
  }
}

/** Warms up, then keeps `inflight` sends going until `sends` are done or `maxMs` passed. */
async function drive(
  label: string,
  channel: Channel,
  plan: SendPlan,
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
    id: `${label.replace(/\W+/g, '-')}-${n}`,
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
