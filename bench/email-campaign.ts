import { seedAudience, type AudienceSeed } from './campaign-audience.js';
import { sleep } from './deadline.js';
import { startEmailDouble, type EmailDouble, type EmailProviderName } from './email-doubles.js';
import { jsonApi, type JsonApi } from './json-api.js';
import { startCpuSample, type CpuSample } from './proc-stats.js';
import { scrapeMetrics } from './server-metrics.js';
import { describeServer, startServer, type ServerProcess } from './server-process.js';
import { campaignSettings, campaignSpec, eventType, template } from './campaign-settings.js';

export interface CampaignPlan {
  recipients: number;
  /** The campaign's `ratePerSecond` (the API's most: 10,000). */
  ratePerSecond: number;
  /** From the POST; past it the run stops and reports how far it got. */
  timeoutMs: number;
}

/** The campaign's record and email tallies as `GET /v1/campaigns/:id` answers them. */
interface Report {
  status: string;
  targeted: number;
  routed: number;
  failed: number;
  createdAt: number;
  firstSendAt: number | null;
  finishedAt: number | null;
  channels: { email: Record<string, number> };
}

export interface CampaignRun extends CampaignPlan {
  provider: EmailProviderName;
  seed: AudienceSeed;
  /** The server's own clock, POST → `status: 'done'` (every recipient routed). */
  doneSeconds: number | undefined;
  /** POST → the double's first message and its last (all `recipients`). */
  firstMessageSeconds: number | undefined;
  allMessagesSeconds: number | undefined;
  /** Messages the double took (the last reading) and how many distinct recipients. */
  taken: number;
  distinctRecipients: number;
  /** `taken` over POST → last message; over first → last message. */
  recipientsPerSecond: number;
  sendingPerSecond: number;
  /** Provider calls the double saw, and how many it refused (signature, schema). */
  providerCalls: number;
  refusedCalls: number;
  report: Report;
  /** `backline_notify_decisions_total{channel="email"}` by outcome, after the run. */
  emailDecisions: Record<string, number>;
  /** The server process, POST → the end of the run (all threads; main thread apart). */
  serverCpu: CpuSample | undefined;
  serverRssBeforeBytes: number | undefined;
  serverRssPeakBytes: number | undefined;
  /** This process (the double, the polling) per wall second of the run; 1 = one core. */
  benchCpuCores: number;
}

/** How the server for `provider` starts, as a reader would start it (doubles' secrets hidden). */
export function describeCampaignServer(provider: EmailProviderName): string {
  const settings = { [provider]: '<the double’s>', failover: { order: [provider] } };
  return describeServer(campaignSettings({ settings }));
}

/**
 * Issue #13's campaign at scale: starts `provider`'s double and the real server pointed at
 * it, seeds `recipients` users (an address and a segment event each; timed apart), creates
 * a campaign to the segment and times it to `done` and until the double has every message.
 *
 * @example
 * const run = await measureCampaign('sendgrid', { recipients: 100_000, ratePerSecond: 10_000, timeoutMs: 600_000 });
 * run.recipientsPerSecond; // 4,100
 */
export async function measureCampaign(
  provider: EmailProviderName,
  plan: CampaignPlan,
): Promise<CampaignRun> {
  const double = await startEmailDouble(provider);
  let server: ServerProcess | undefined;
  try {
    server = await startServer(campaignSettings(double));
    const api = jsonApi(server);
    await api('PUT', `/v1/templates/${template.name}`, template.parts);
    const seed = await seedAudience(api, server.pid, plan.recipients, eventType);
    return { provider, ...plan, seed, ...(await runCampaign(server, api, double, plan)) };
  } finally {
    await server?.stop();
    await double.close();
  }
}

type Measured = Omit<CampaignRun, 'provider' | 'seed' | keyof CampaignPlan>;

async function runCampaign(
  server: ServerProcess,
  api: JsonApi,
  double: EmailDouble,
  plan: CampaignPlan,
): Promise<Measured> {
  const rssBefore = server.rssBytes();
  const cpu = startCpuSample(server.pid);
  const benchCpu = process.cpuUsage();
  const postedAt = Date.now();
  const { id } = (await api('POST', '/v1/campaigns', campaignSpec(plan.ratePerSecond))) as {
    id: string;
  };
  const report = async () => (await api('GET', `/v1/campaigns/${id}`)) as Report;
  const watched = await watchCampaign(server, double, plan, postedAt, report);
  const stoppedAt = Date.now();
  const serverCpu = cpu.read();
  const used = process.cpuUsage(benchCpu);
  if (!server.alive()) throw new Error(`server died:\n${server.logTail().join('\n')}`);
  const last = await report();
  const { firstAt, allAt } = watched;
  const endedAt = allAt ?? stoppedAt;
  const taken = double.messages.length;
  const seconds = (at: number | undefined) =>
    at === undefined ? undefined : (at - postedAt) / 1000;
  return {
    doneSeconds: last.finishedAt === null ? undefined : (last.finishedAt - last.createdAt) / 1000,
    firstMessageSeconds: seconds(firstAt),
    allMessagesSeconds: seconds(allAt),
    taken,
    distinctRecipients: new Set(double.messages.map((m) => m.to)).size,
    recipientsPerSecond: taken / ((endedAt - postedAt) / 1000),
    sendingPerSecond: taken / ((endedAt - (firstAt ?? postedAt)) / 1000),
    providerCalls: double.calls(),
    refusedCalls: double.refused(),
    report: last,
    emailDecisions: emailDecisions(await scrapeMetrics(server.port)),
    serverCpu,
    serverRssBeforeBytes: rssBefore,
    serverRssPeakBytes: Math.max(rssBefore ?? 0, watched.rssPeak),
    benchCpuCores: (used.user + used.system) / 1e6 / ((stoppedAt - postedAt) / 1000),
  };
}

/**
 * Reads the double's count every 10 ms and the campaign's report (and the server's RSS)
 * every 500 ms, until the double has every message and the campaign is `done`, or the
 * plan's time is up. Times are epoch ms, as the server's own `createdAt` and `finishedAt`.
 */
async function watchCampaign(
  server: ServerProcess,
  double: EmailDouble,
  plan: CampaignPlan,
  postedAt: number,
  report: () => Promise<Report>,
) {
  let status = (await report()).status;
  let firstAt: number | undefined;
  let allAt: number | undefined;
  let rssPeak = 0;
  let polledAt = Date.now();
  const deadline = postedAt + plan.timeoutMs;
  while (Date.now() < deadline && (allAt === undefined || status !== 'done')) {
    const taken = double.messages.length;
    if (firstAt === undefined && taken > 0) firstAt = Date.now();
    if (allAt === undefined && taken >= plan.recipients) allAt = Date.now();
    // The report counts the decision log in ClickHouse: a poll costs the server a query.
    if (Date.now() - polledAt >= 500) {
      polledAt = Date.now();
      status = (await report()).status;
      if (status === 'cancelled') throw new Error('the campaign was cancelled');
      rssPeak = Math.max(rssPeak, server.rssBytes() ?? 0);
    }
    await sleep(10);
  }
  return { firstAt, allAt, rssPeak };
}

function emailDecisions(series: Map<string, number>): Record<string, number> {
  const outcomes: Record<string, number> = {};
  for (const [key, n] of series) {
    if (!key.startsWith('backline_notify_decisions_total{') || !key.includes('channel="email"'))
      continue;
    const outcome = /outcome="([^"]*)"/.exec(key)?.[1] ?? '';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + n;
  }
  return outcomes;
}
