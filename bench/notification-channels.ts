import { measureEmail, measurePush, type ChannelRun, type SendPlan } from './channel-sends.js';
import { defaultAudienceOptions } from './campaign-audience.js';
import { emailProviders } from './email-doubles.js';
import {
  describeCampaignServer,
  measureCampaign,
  type CampaignPlan,
  type CampaignRun,
} from './email-campaign.js';
import { byCode, count, mebibytes } from './number-format.js';
import type { BenchOptions } from './options.js';
import { failedResult, type Scenario, type ScenarioResult } from './scenario.js';

const name = 'notification-channels';
/** The issue's original floor: 10,000 emails an hour. */
const floorPerSecond = 10_000 / 3600;

/**
 * The notifications issues: web push and email sends per second through the real channels
 * (encryption, VAPID signing, rendering, batching and the at-most-once records included),
 * driven in this process against the loopback doubles the tests use (email through SendGrid's
 * and SES's), next to the floor the issue started from (10,000 emails an hour); then issue
 * #13's campaign at scale through the real server, once per email provider: time to finish
 * and recipients per second.
 */
export const notificationChannels: Scenario = {
  name,
  // Per campaign: a server start, the seeding, the campaign, the stop; past this it is stuck.
  maxMs: (options) => 2 * (campaignPlan(options).timeoutMs + 240_000),
  run: runNotificationChannels,
};

function campaignPlan(options: BenchOptions): CampaignPlan {
  return options.quick
    ? { recipients: 5000, ratePerSecond: 10_000, timeoutMs: 60_000 }
    : { recipients: 100_000, ratePerSecond: 10_000, timeoutMs: 900_000 };
}

async function runNotificationChannels(options: BenchOptions): Promise<ScenarioResult> {
  const seconds = options.quick ? 1.5 : options.measureSeconds;
  const push: SendPlan = options.quick
    ? { users: 20, warmup: 10, sends: 100, inflight: 16, maxMs: seconds * 1000 }
    : { users: 1000, warmup: 200, sends: 20_000, inflight: 32, maxMs: seconds * 1000 };
  const email: SendPlan = options.quick
    ? { users: 200, warmup: 100, sends: 1000, inflight: 500, maxMs: seconds * 1000 }
    : { users: 10_000, warmup: 2000, sends: 200_000, inflight: 2000, maxMs: seconds * 1000 };
  const plan = campaignPlan(options);
  const commands = [
    'channels: this process, against test/helpers/push-service.ts, sendgrid-server.ts and ses-server.ts',
    ...emailProviders.map((p) => `campaign, ${p}: ${describeCampaignServer(p)}`),
    'campaign doubles, seeding and polling: this process (bench/email-campaign.ts)',
  ];
  const runs: ChannelRun[] = [];
  const campaigns: CampaignRun[] = [];
  try {
    runs.push(await measurePush(push));
    for (const provider of emailProviders) runs.push(await measureEmail(provider, email));
    for (const provider of emailProviders) campaigns.push(await measureCampaign(provider, plan));
  } catch (err) {
    return failedResult(name, err, commands);
  }
  const failure = [...runs.flatMap(shortRun), ...campaigns.flatMap(shortCampaign)];
  return {
    scenario: name,
    ok: failure.length === 0,
    ...(failure.length > 0 ? { failure: failure.join('; ') } : {}),
    figures: { floorPerSecond, runs, campaigns },
    table: [...runs.flatMap(rows), ...campaigns.flatMap(campaignRows)],
    commands,
    notes: notes(push, email, plan),
  };
}

const shortRun = (r: ChannelRun): string[] =>
  r.attempted === 0 || r.delivered < r.attempted ? [`${r.channel}: ${byCode(r.outcomes)}`] : [];

function shortCampaign(c: CampaignRun): string[] {
  const whole =
    c.report.status === 'done' &&
    c.taken === c.recipients &&
    c.distinctRecipients === c.recipients &&
    c.refusedCalls === 0;
  if (whole) return [];
  return [
    `campaign, ${c.provider}: ${c.report.status} after ${(c.timeoutMs / 1000).toFixed(0)} s at most, ` +
      `routed ${count(c.report.routed)} of ${count(c.recipients)}, the double took ` +
      `${count(c.taken)} (${count(c.distinctRecipients)} distinct), ${count(c.refusedCalls)} calls refused; ` +
      `email decisions ${byCode(c.emailDecisions)}`,
  ];
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

const secs = (s: number | undefined) => (s === undefined ? 'not reached' : `${s.toFixed(1)} s`);
const percent = (cpu: number, wall: number) => `${((cpu / wall) * 100).toFixed(0)} %`;

function campaignRows(c: CampaignRun): ScenarioResult['table'] {
  const at = `campaign of ${count(c.recipients)}, ${c.provider}`;
  const { seed, report, serverCpu: cpu } = c;
  return [
    [
      `**${at}: time to finish**: POST → \`done\` (all routed) / → the double has all`,
      `${secs(c.doneSeconds)} / **${secs(c.allMessagesSeconds)}**`,
    ],
    [
      `**${at}: recipients/s** (POST → last message); while sending (first → last message)`,
      `**${count(c.recipientsPerSecond)}**; ${count(c.sendingPerSecond)} (first after ${secs(c.firstMessageSeconds)})`,
    ],
    [
      `${at}: targeted / routed / failed; email sent; double took (distinct)`,
      `${count(report.targeted)} / ${count(report.routed)} / ${count(report.failed)}; ` +
        `${count(report.channels.email.sent ?? 0)}; ${count(c.taken)} (${count(c.distinctRecipients)})`,
    ],
    [
      `${at}: provider calls (refused); email decisions`,
      `${count(c.providerCalls)} (${count(c.refusedCalls)}); ${byCode(c.emailDecisions)}`,
    ],
    [
      `${at}: server CPU all threads / main thread (100 % = one core); RSS before → peak`,
      `${cpu ? `${percent(cpu.cpuSeconds, cpu.wallSeconds)} / ${percent(cpu.mainThreadSeconds, cpu.wallSeconds)}` : 'n/a'}; ` +
        `${mebibytes(c.serverRssBeforeBytes)} → ${mebibytes(c.serverRssPeakBytes)}`,
    ],
    [`${at}: bench process CPU (the double, polling; 1 = one core)`, c.benchCpuCores.toFixed(2)],
    [
      `${at}, seeding (not in the figures above): preferences PUT (CPU: server, bench process); events POSTed`,
      `${count(seed.users)} in ${seed.preferencesSeconds.toFixed(1)} s (${count(seed.preferencesPerSecond)}/s; ` +
        `${seed.preferencesServerCpuPercent?.toFixed(0) ?? 'n/a'} %, ${seed.preferencesBenchCpuPercent.toFixed(0)} %); ` +
        `${count(seed.users)} in ${seed.eventsSeconds.toFixed(1)} s (${count(seed.eventsPerSecond)}/s)`,
    ],
  ];
}

function notes(push: SendPlan, email: SendPlan, plan: CampaignPlan): string[] {
  const seeding = defaultAudienceOptions;
  return [
    'The channels run in the bench process, as the router calls them, against the loopback ' +
      'doubles of the tests, so the process also pays for the doubles: the push service checks ' +
      'each VAPID JWT and decrypts each aes128gcm payload, the SendGrid double parses and ' +
      'validates each request against the v3 schema, the SES double recomputes each SigV4 ' +
      'signature and checks the v2 schema. The figures are a lower bound on the channels alone; ' +
      'a real push service or provider adds network latency, not CPU here.',
    `Web push: ${count(push.users)} users with one subscription each (memory StateStore), ` +
      `${push.inflight} sends in flight; each send encrypts for its subscription (RFC 8291, a ` +
      'fresh ECDH key) and signs a VAPID JWT.',
    `Email: ${count(email.users)} users with an address, a newsletter (the example ` +
      `\`newsletter\` template) with ${count(email.inflight)} sends in flight; each send renders ` +
      'the template, checks suppressions and writes the at-most-once `sending`/`sent` records. ' +
      'SendGrid takes batches of up to 1,000 personalizations per request; SES v2 one message ' +
      'per signed `SendEmail` call, 16 at once per batch. The rate limit (default 500/s, ' +
      '`email.rateLimit.perSecond`) is raised out of the way.',
    `Campaigns: per provider, a fresh server (commands below) with only that provider, ` +
      `\`email.rateLimit\` raised to 1,000,000/s so the provider and the campaign's pace are ` +
      `measured, not the limiter, and the key's request budget raised for the seeding. ` +
      `${count(plan.recipients)} users get an address (\`PUT /v1/users/:id/preferences\`, ` +
      `${seeding.preferencesInFlight} at once over kept-alive sockets) and one \`newsletter.optin\` ` +
      `event (\`POST /v1/events\`, ${count(seeding.eventsPerBatch)} a batch, acked once in ` +
      'ClickHouse); seeding is timed apart. Then `POST /v1/campaigns` to the segment of that ' +
      `type, \`ratePerSecond: ${count(plan.ratePerSecond)}\` (the API's most), a stored template ` +
      'with the recipient’s unsubscribe link. Time to `done` is the server’s own ' +
      '`finishedAt − createdAt` (every recipient routed); the double’s messages are read every ' +
      '10 ms from the POST. Recipients/s = messages ÷ (POST → last message). Server CPU and RSS ' +
      'from /proc over the same span (RSS peak sampled every 500 ms).',
  ];
}
