import { randomBytes } from 'node:crypto';
import type { Ingest } from '../ingest/ingest-service.js';
import type { DevProject } from '../demo/dev-project.js';
import { exampleTemplates, seedTemplates } from '../demo/example-templates.js';
import { createCaps } from '../notify/caps.js';
import { createFailover } from '../notify/channels/email/failover.js';
import type { EmailProvider } from '../notify/channels/email/providers.js';
import { createSendGridProvider } from '../notify/channels/email/sendgrid-provider.js';
import { createSendRecords } from '../notify/channels/email/send-records.js';
import { createSmtpProvider } from '../notify/channels/email/smtp-provider.js';
import { createSuppressions } from '../notify/channels/email/suppressions.js';
import { createEmailTemplates } from '../notify/channels/email/templates.js';
import { createUnsubscribeLinks } from '../notify/channels/email/unsubscribe-links.js';
import {
  createSendGridWebhook,
  decisionRecorder,
  type TrackingEvent,
} from '../notify/channels/email/webhook.js';
import { createSesWebhook } from '../notify/channels/email/ses-webhook.js';
import {
  createSnsVerifier,
  defaultSnsOptions,
  fetchText,
} from '../notify/channels/email/sns-message.js';
import type { InAppDeps } from '../notify/channels/in-app/in-app.js';
import { openChannels } from '../notify/channels/index.js';
import { createOutboundUrlGuard } from '../notify/channels/web-push/outbound-url.js';
import { createPushSubscriptions } from '../notify/channels/web-push/push-subscriptions.js';
import { loadVapidKeys } from '../notify/channels/web-push/vapid.js';
import { createDecisionLog, type DecisionLog } from '../notify/decision-log.js';
import { createDelivery } from '../notify/delivery.js';
import { createInbox } from '../notify/inbox.js';
import { createPreferences, type PreferenceStore } from '../notify/preferences.js';
import { createRouter } from '../notify/router.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { withGroupCommit } from '../state/group-commit.js';
import type { Sealer } from '../state/sealer.js';
import type { StateStore } from '../state/state-store.js';
import { generatedOnce } from './cluster-secrets.js';
import type { AppConfig } from './config.js';
import type { Stored } from './storage.js';

interface NotifyDeps {
  stored: Stored;
  ingest: Ingest;
  /** The bus the in-app channel pushes through, and who is online to take it. */
  inApp: InAppDeps;
  projects: AppConfig['projects'];
  dev: DevProject | undefined;
  /** Each recipient's template variables (their recommendations). */
  variablesFor?: (project: string, userId: string) => Promise<Record<string, unknown>>;
  metrics: Metrics;
  log: Logger;
}

/**
 * Notifications: state in LMDB, decisions in ClickHouse, the channels from their registry,
 * the router that picks one and the delivery that retries it.
 */
export async function composeNotify(config: AppConfig, deps: NotifyDeps) {
  const { stored, ingest, metrics, log } = deps;
  const { state, timers, sealer } = stored;
  const decisions = createDecisionLog({
    writer: stored.decisionWriter,
    store: stored.decisionStore,
    metrics,
  });
  // A project's notifications route at once (rules/project-queue.ts): their de-duplication
  // claims and inbox items then share transactions instead of a commit each.
  const grouped = withGroupCommit(state);
  const preferences = createPreferences(state, sealer);
  const capsByProject = new Map(deps.projects.map((p) => [p.id, p.notifications.caps]));
  const caps = createCaps(state, (project) => capsByProject.get(project) ?? []);
  // Channel results become events in the project's stream, like any other event.
  const trackResult = (project: string, event: object) => {
    try {
      ingest
        .accept(project, [event])
        .durable.catch((err: unknown) => log.warn({ err }, 'channel result event not stored'));
    } catch (err) {
      log.warn({ err }, 'channel result event refused');
    }
  };
  // A mark that changed an item becomes a `notification.<state>` event: reads and views are
  // then counted like email opens (campaign reports), once per item and state.
  const inbox = createInbox(grouped, (project, userId, ids, as) => {
    for (const notificationId of ids)
      trackResult(project, {
        id: `inbox-${as}-${notificationId}`,
        type: `notification.${as}`,
        ts: Date.now(),
        userId,
        props: { notificationId },
      });
  });
  const push = composePush(config, state, sealer);
  const email = await composeEmail(config, { ...deps, state, preferences, decisions });
  const channels = openChannels({
    inApp: deps.inApp,
    webPush: {
      ...push,
      metrics,
      log,
      onResult: (project, _user, event) => trackResult(project, event),
    },
    email: email.channel,
  });
  const delivery = createDelivery({ channels, timers, decisions, log });
  const router = createRouter({
    state: grouped,
    preferences,
    caps,
    inbox,
    channels,
    delivery,
    decisions,
    timers,
    sealer,
  });
  return { router, decisions, inbox, preferences, push, email };
}

/** Web push: VAPID keys (generated once into the data folder) and the users' subscriptions. */
function composePush(config: AppConfig, state: StateStore, sealer: Sealer) {
  const vapid = loadVapidKeys(config.dataDir, {
    publicKey: config.push.vapidPublicKey,
    privateKey: config.push.vapidPrivateKey,
    subject: config.push.vapidSubject,
  });
  // Endpoints are user input: judged when subscribed and on every connection. SendGrid's
  // and SMTP's URLs are the operator's settings, so they are not judged.
  const endpoints = createOutboundUrlGuard(
    {},
    {
      allowInsecureLoopback: config.push.allowInsecureLoopback,
      allowedHosts: config.push.allowedHosts,
    },
  );
  const subscriptions = createPushSubscriptions(state, {}, Date.now, sealer);
  return { vapid, subscriptions, endpoints };
}

/**
 * Email: templates (the examples seeded for the dev project), suppressions kept from
 * SendGrid's and SES's event webhooks, and the channel when a provider and a sender are
 * configured.
 */
async function composeEmail(
  config: AppConfig,
  deps: NotifyDeps & { state: StateStore; preferences: PreferenceStore; decisions: DecisionLog },
) {
  const { state, log } = deps;
  const suppressions = createSuppressions(state, Date.now, deps.stored.sealer);
  const records = createSendRecords(state);
  const templates = createEmailTemplates(state);
  if (deps.dev) await seedTemplates(templates, deps.dev.project.id, exampleTemplates);
  const provider = await openEmailProvider(config.email, log);
  const { from, replyTo, rateLimit, sendgrid } = config.email;
  const unsubscribe = await openUnsubscribeLinks(config.email.unsubscribe, state);
  if (provider && from && !unsubscribe)
    log.warn(
      'email.unsubscribe.baseUrl is not set: emails go without List-Unsubscribe, which Gmail and Yahoo require of bulk senders',
    );
  const channel =
    provider && from
      ? {
          ...{ templates, preferences: deps.preferences, suppressions, records, provider },
          ...{ from, ...(replyTo ? { replyTo } : {}), rateLimit },
          ...(deps.variablesFor ? { variablesFor: deps.variablesFor } : {}),
          ...(unsubscribe ? { unsubscribe } : {}),
        }
      : undefined;
  const common = {
    ingestEvents: (project: string, events: TrackingEvent[]) =>
      deps.ingest.accept(project, events).durable,
    suppressions,
    records,
    recordSuppression: decisionRecorder(deps.decisions),
    knownProject: (project: string) => deps.projects.some((p) => p.id === project),
    log,
  };
  const webhook = sendgrid.webhookPublicKey
    ? createSendGridWebhook({ publicKey: sendgrid.webhookPublicKey, ...common })
    : undefined;
  const { sns } = config.email.ses;
  const sesWebhook = sns.topicArns.length
    ? createSesWebhook({
        ...common,
        sns: createSnsVerifier({ certHostPattern: sns.certHostPattern }),
        topicArns: sns.topicArns,
        visit: (url) => fetchText(url, defaultSnsOptions),
      })
    : undefined;
  const service = {
    name: 'email',
    start: async () => undefined,
    stop: async () => provider?.close?.(),
  };
  return { templates, channel, webhook, sesWebhook, service, suppressions, unsubscribe };
}

/**
 * One-click unsubscribe links when `baseUrl` says where users reach this server; signed by
 * the configured secret, else by one generated once into the (shared) state store.
 */
async function openUnsubscribeLinks(
  settings: AppConfig['email']['unsubscribe'],
  state: StateStore,
) {
  const { baseUrl, secret, previousSecrets } = settings;
  if (baseUrl === undefined) return undefined;
  const signing =
    secret ??
    (await generatedOnce(state, 'unsubscribe-secret', () => randomBytes(32).toString('base64url')));
  return createUnsubscribeLinks({ baseUrl, secrets: [signing, ...previousSecrets] });
}

/**
 * The configured providers (SendGrid, Amazon SES, SMTP) in `email.failover.order`, each behind
 * the one before it: the next takes over while the one before keeps failing. None when none
 * is configured.
 */
export async function openEmailProvider(
  email: AppConfig['email'],
  log: Logger,
): Promise<EmailProvider | undefined> {
  const sendgrid = email.sendgrid.apiKey
    ? createSendGridProvider(
        { apiKey: email.sendgrid.apiKey },
        { baseUrl: email.sendgrid.baseUrl, timeoutMs: email.sendgrid.timeoutMs },
      )
    : undefined;
  const { region, endpoint, accessKeyId, secretAccessKey, configurationSet } = email.ses;
  // Imported only when configured: the AWS SDK adds ~100 ms to every start.
  const ses = region
    ? (await import('../notify/channels/email/ses-provider.js')).createSesProvider(
        {
          region,
          ...(endpoint ? { endpoint } : {}),
          ...(accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : {}),
          ...(configurationSet ? { configurationSet } : {}),
        },
        { timeoutMs: email.ses.timeoutMs },
      )
    : undefined;
  const { url, requireTls, caFile, maxConnections } = email.smtp;
  const smtp = url
    ? createSmtpProvider({ url, requireTls, ...(caFile ? { caFile } : {}) }, { maxConnections })
    : undefined;
  const configured = { sendgrid, ses, smtp };
  for (const [name, provider] of Object.entries(configured))
    if (provider && !email.failover.order.includes(name as keyof typeof configured))
      log.warn(
        { provider: name },
        'email provider configured but not in email.failover.order: unused',
      );
  const chain = email.failover.order
    .map((name) => configured[name])
    .filter((p): p is EmailProvider => p !== undefined);
  const { failuresToOpen, coolDownMs } = email.failover;
  return chain.reduceRight<EmailProvider | undefined>(
    (secondary, primary) =>
      secondary
        ? createFailover({ primary, secondary, log }, { failuresToOpen, coolDownMs })
        : primary,
    undefined,
  );
}

export type Notify = Awaited<ReturnType<typeof composeNotify>>;
