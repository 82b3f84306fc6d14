import type { Channel, SendResult } from '../../channel.js';
import { renderEmail, type RenderedEmail } from './render-email.js';
import type { EmailAddress, EmailMessage, EmailProvider } from './providers.js';
import { createEmailRateLimit, defaultEmailRateLimit } from './rate-limit.js';
import { createSendBatcher, defaultBatchOptions } from './send-batcher.js';
import type { SendRecord, SendRecords } from './send-records.js';
import type { Suppressions } from './suppressions.js';
import type { EmailTemplate, EmailTemplates } from './templates.js';
import { unsubscribeHeaders, type UnsubscribeLinks } from './unsubscribe-links.js';
import type { Notification } from '../../notification.js';
import type { PreferenceStore } from '../../preferences.js';

export const defaultEmailChannelOptions = {
  /** A `sending` record this young may still be confirmed by a webhook event: retry later. */
  confirmWindowMs: 10 * 60_000,
  batch: defaultBatchOptions,
};

/** Used when a notification names no template and the project stored none called `default`. */
export const builtInTemplate: EmailTemplate = {
  subject: '{{title}}',
  html: '<h1>{{title}}</h1>\n<p>{{body}}</p>',
  text: '{{title}}\n\n{{body}}',
};

export interface Sender {
  from: EmailAddress;
  replyTo?: EmailAddress;
}

export interface EmailChannelDeps extends Sender {
  templates: Pick<EmailTemplates, 'render' | 'getLayout'>;
  preferences: Pick<PreferenceStore, 'get'>;
  suppressions: Pick<Suppressions, 'blocks'>;
  records: SendRecords;
  provider: EmailProvider;
  /** A project's own sender, when it has one; else `from` and `replyTo`. */
  senderFor?: (project: string) => Sender | undefined;
  rateLimit?: Partial<typeof defaultEmailRateLimit>;
  /** The recipient's locale; default: `variables.locale` of the notification. */
  localeOf?: (notification: Notification) => string | undefined;
  /**
   * Variables of the recipient every template may use (their `recommendations`, README:
   * Predictions); the notification's own variables win. A failure here renders without them.
   */
  variablesFor?: (project: string, userId: string) => Promise<Record<string, unknown>>;
  /**
   * One-click unsubscribe (RFC 8058): every email but a critical one carries its
   * `List-Unsubscribe` headers, and templates may show the link as `{{unsubscribeUrl}}`.
   */
  unsubscribe?: Pick<UnsubscribeLinks, 'url'>;
}

/**
 * The email channel: reaches a user who has an address in their preferences that no bounce,
 * spam report or unsubscribe disabled; renders the notification's `template` (else the
 * project's `default`, else a built-in one from title and body) with its `variables`;
 * waits for the rate limit up to `maxWaitMs` (then answers retry with `afterMs`).
 *
 * At most once, through a crash: a `sending` record is written before the provider is
 * called and `sent` after it accepted. An attempt that finds `sending` does not send: the
 * earlier attempt may have been accepted before the process died. SendGrid's event webhook
 * (which carries the notification id) turns such a record into `sent`, and the attempt is
 * then reported delivered; with no event within `confirmWindowMs` it fails as unconfirmed.
 * A provider answer of `retry` removes the record, so that retry may send.
 *
 * @example
 * const email = createEmailChannel({ templates, preferences, suppressions, records, provider, from: { email: 'hi@shop.example' } });
 * await email.send(notification); // { status: 'delivered', detail: 'sendgrid 202 …' }
 */
export function createEmailChannel(
  deps: EmailChannelDeps,
  options: Partial<typeof defaultEmailChannelOptions> = {},
  now = Date.now,
): Channel {
  const { templates, preferences, suppressions, records } = deps;
  const opts = { ...defaultEmailChannelOptions, ...options };
  const rate = { ...defaultEmailRateLimit, ...deps.rateLimit };
  const limit = createEmailRateLimit(rate);
  const provider = createSendBatcher(deps.provider, opts.batch);
  const localeOf = deps.localeOf ?? ((n) => stringOr(n.variables.locale));

  async function address(project: string, userId: string): Promise<string | undefined> {
    const email = (await preferences.get(project, userId)).email;
    if (!email || (await suppressions.blocks(project, userId, email))) return undefined;
    return email;
  }

  /** The link that unsubscribes the recipient from the notification's category; none when critical. */
  const unsubscribeUrlOf = (n: Notification) =>
    n.priority === 'critical'
      ? undefined
      : deps.unsubscribe?.url({ project: n.project, userId: n.userId, category: n.category });

  async function render(
    n: Notification,
    unsubscribeUrl: string | undefined,
  ): Promise<RenderedEmail | undefined> {
    const own = await deps.variablesFor?.(n.project, n.userId).catch(() => undefined);
    const variables = {
      ...own,
      ...(unsubscribeUrl ? { unsubscribeUrl } : {}),
      ...{ title: n.title, body: n.body, category: n.category, ...n.variables },
    };
    const id = n.template ?? 'default';
    const found = await templates.render(n.project, id, localeOf(n), variables);
    if (found || n.template !== undefined) return found;
    return renderEmail(builtInTemplate, await templates.getLayout(n.project), variables);
  }

  function settle(record: SendRecord): SendResult {
    if (record.status === 'sent')
      return { status: 'delivered', detail: `already sent: ${record.detail}` };
    if (record.status === 'failed')
      return { status: 'failed', reason: `already failed: ${record.reason}` };
    const waited = now() - record.ts;
    if (waited >= opts.confirmWindowMs)
      return { status: 'failed', reason: 'unconfirmed: an interrupted send is not repeated' };
    const reason = 'unconfirmed: an earlier attempt was interrupted; waiting for provider events';
    return { status: 'retry', reason, afterMs: opts.confirmWindowMs - waited };
  }

  async function take(): Promise<number> {
    const waitMs = limit.reserve(1);
    if (waitMs > rate.maxWaitMs) {
      limit.release(1);
      return waitMs;
    }
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    return 0;
  }

  async function send(n: Notification): Promise<SendResult> {
    const { project, userId, id } = n;
    const to = await address(project, userId);
    if (!to) return { status: 'failed', reason: 'unreachable: no email address, or disabled' };
    const earlier = await records.get(project, id);
    if (earlier) return settle(earlier);
    const unsubscribeUrl = unsubscribeUrlOf(n);
    const rendered = await render(n, unsubscribeUrl);
    if (!rendered) return { status: 'failed', reason: `template_not_found: ${n.template}` };
    const waitMs = await take();
    if (waitMs > 0) return { status: 'retry', reason: 'rate_limited: email', afterMs: waitMs };
    const claimed = await records.begin(project, id);
    if (claimed) return settle(claimed);
    const sender = deps.senderFor?.(project) ?? deps;
    const message: EmailMessage = {
      notificationId: id,
      project,
      userId,
      template: n.template ?? 'default',
      to,
      from: sender.from,
      ...(sender.replyTo ? { replyTo: sender.replyTo } : {}),
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      ...(unsubscribeUrl ? { headers: unsubscribeHeaders(unsubscribeUrl), unsubscribeUrl } : {}),
    };
    const [result] = await provider.send([message]);
    if (result!.status === 'delivered') await records.sent(project, id, result!.detail ?? '');
    else if (result!.status === 'failed') await records.failed(project, id, result!.reason);
    else await records.release(project, id);
    return result!;
  }

  return {
    name: 'email',
    reachable: async (project, userId) => (await address(project, userId)) !== undefined,
    send,
  };
}

const stringOr = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
