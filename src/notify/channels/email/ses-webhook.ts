import { BacklineError } from '../../../errors.js';
import { decodeTag, sesTags } from './ses-provider.js';
import { parseSnsMessage, type SnsMessage, type SnsVerifier } from './sns-message.js';
import type { SuppressionReason } from './suppressions.js';
import type { TrackingEvent, WebhookDeps, WebhookResult } from './webhook.js';

/**
 * SES event types (event publishing's `eventType`, identity notifications' `notificationType`)
 * as the `email.<event>` names SendGrid's webhook gives, so one stream counts both providers.
 */
export const sesEventNames: Record<string, string> = {
  Send: 'processed',
  Delivery: 'delivered',
  DeliveryDelay: 'deferred',
  Open: 'open',
  Click: 'click',
  Bounce: 'bounce',
  Complaint: 'spamreport',
  Reject: 'dropped',
  'Rendering Failure': 'dropped',
  Subscription: 'unsubscribe',
};

export interface SesWebhookDeps extends Omit<WebhookDeps, 'publicKey'> {
  sns: SnsVerifier;
  /** Topics whose messages are taken; any other's is refused, even signed by AWS. */
  topicArns: readonly string[];
  /** Visits a SubscribeURL (already checked to be https on an allowed host). */
  visit: (url: URL) => Promise<unknown>;
}

export type SesWebhookResult = WebhookResult & { type: SnsMessage['Type']; confirmed?: boolean };

type SesEvent = Record<string, unknown> & { mail?: Record<string, unknown> };

/**
 * Amazon SES's events through SNS (`POST /v1/webhooks/ses`): each message's topic must be one
 * of `topicArns` and its signature verify (sns-message.ts), else 401 `BAD_SIGNATURE`. A
 * subscription confirmation is confirmed by visiting its SubscribeURL; a notification holding
 * an SES event of a mail backline sent (its tags name project, user and notification)
 * confirms the send record, disables email on a permanent bounce or a complaint, and becomes
 * an `email.<event>` event (`props.provider: "ses"`), as SendGrid's do. SNS retries a delivery that got no
 * 2xx; event ids (`ses-<SNS MessageId>`) de-duplicate.
 *
 * @example
 * const webhook = createSesWebhook({ sns, topicArns, visit, ingestEvents, suppressions, records, recordSuppression });
 * await webhook.handle(body); // { type: 'Notification', events: 1, tracked: 1, … }
 */
export function createSesWebhook(deps: SesWebhookDeps, now = Date.now) {
  const topics = new Set(deps.topicArns);

  async function notification(message: SnsMessage): Promise<SesWebhookResult> {
    const result = { type: message.Type, events: 1, tracked: 0, suppressed: 0, ignored: 0 };
    const event = parseEvent(message.Message);
    const tracked = event && toTrackingEvent(event, message, now);
    if (!tracked || deps.knownProject?.(tracked.project) === false) {
      result.ignored = 1;
      return result;
    }
    const { project, event: stream } = tracked;
    const { notificationId } = stream.props;
    await deps.records.confirm(project, notificationId, `ses event: ${stream.type}`);
    const reason = suppressionOf(event);
    result.tracked = 1;
    if (reason) {
      const detail = String(stream.props.reason ?? stream.props.bounceType ?? '');
      const fields = { reason, email: recipientOf(event), notificationId, detail };
      if (await deps.suppressions.suppress(project, stream.userId, fields)) {
        result.suppressed = 1;
        const why = `email_disabled: ${reason}${detail ? ` (${detail})` : ''}`;
        deps.recordSuppression(project, stream.userId, notificationId, why);
      }
    }
    await deps.ingestEvents(project, [stream]);
    return result;
  }

  return {
    /** Throws BAD_SIGNATURE (401), BAD_JSON (400), SNS_CERT_UNAVAILABLE (503); ingest errors pass. */
    async handle(body: Buffer): Promise<SesWebhookResult> {
      const message = parseSnsMessage(body);
      if (!topics.has(message.TopicArn))
        throw new BacklineError('BAD_SIGNATURE', `topic ${message.TopicArn} is not taken here`);
      await deps.sns.verify(message);
      const none = { events: 0, tracked: 0, suppressed: 0, ignored: 0 };
      if (message.Type === 'SubscriptionConfirmation') {
        await deps.visit(deps.sns.url(message.SubscribeURL!, 'SubscribeURL'));
        deps.log?.info({ topic: message.TopicArn }, 'SES webhook: SNS subscription confirmed');
        return { type: message.Type, ...none, confirmed: true };
      }
      if (message.Type === 'UnsubscribeConfirmation') {
        deps.log?.warn({ topic: message.TopicArn }, 'SES webhook: SNS unsubscribed this endpoint');
        return { type: message.Type, ...none };
      }
      return notification(message);
    },
  };
}

export type SesWebhook = ReturnType<typeof createSesWebhook>;

function parseEvent(text: string): SesEvent | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as SesEvent)
      : undefined;
  } catch {
    return undefined;
  }
}

const typeOf = (event: SesEvent) => String(event.eventType ?? event.notificationType ?? '');
const part = (event: SesEvent, name: string) =>
  (event[name] ?? {}) as Record<string, unknown> & { timestamp?: unknown };

/** The first value of one of backline's tags on the mail, decoded. */
function tag(event: SesEvent, name: string): string | undefined {
  const tags = event.mail?.tags as Record<string, unknown> | undefined;
  const values = tags?.[name];
  const value = Array.isArray(values) ? values[0] : undefined;
  return typeof value === 'string' && value ? decodeTag(value) : undefined;
}

function toTrackingEvent(event: SesEvent, message: SnsMessage, now: () => number) {
  const name = sesEventNames[typeOf(event)];
  const project = tag(event, sesTags.project);
  const userId = tag(event, sesTags.user);
  const notificationId = tag(event, sesTags.notification);
  if (!name || !project || !userId || !notificationId) return undefined;
  const detail = part(event, typeOf(event).charAt(0).toLowerCase() + typeOf(event).slice(1));
  const at = Date.parse(String(detail.timestamp ?? event.mail?.timestamp ?? message.Timestamp));
  const props: TrackingEvent['props'] = {
    notificationId,
    template: tag(event, sesTags.template) ?? 'default',
    provider: 'ses',
    [name]: 1,
  };
  const optional = {
    url: detail.link,
    reason:
      detail.reason ??
      part(event, 'bounce').bounceSubType ??
      part(event, 'complaint').complaintFeedbackType,
    bounceType: part(event, 'bounce').bounceType,
    status: part(event, 'delivery').smtpResponse,
  };
  for (const [key, value] of Object.entries(optional))
    if (typeof value === 'string' && value) props[key] = value.slice(0, 2048);
  const stream: TrackingEvent = {
    id: `ses-${message.MessageId}`.slice(0, 128),
    type: `email.${name}`,
    ts: Number.isFinite(at) ? at : now(),
    userId,
    props,
  };
  return { project, event: stream };
}

/**
 * A permanent bounce or a complaint stops email; a transient bounce does not, nor a rejection
 * (SES refused the content, a virus: not the address's fault).
 */
function suppressionOf(event: SesEvent): SuppressionReason | undefined {
  const type = typeOf(event);
  if (type === 'Bounce')
    return part(event, 'bounce').bounceType === 'Permanent' ? 'bounce' : undefined;
  return type === 'Complaint' ? 'spamreport' : undefined;
}

function recipientOf(event: SesEvent): string | undefined {
  const bounced = part(event, 'bounce').bouncedRecipients;
  const first = Array.isArray(bounced) ? (bounced[0] as { emailAddress?: unknown }) : undefined;
  if (typeof first?.emailAddress === 'string') return first.emailAddress;
  const to = event.mail?.destination;
  return Array.isArray(to) && typeof to[0] === 'string' ? to[0] : undefined;
}
