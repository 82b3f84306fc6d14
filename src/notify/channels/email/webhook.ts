import { createHash } from 'node:crypto';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { BacklineError } from '../../../errors.js';
import type { Logger } from '../../../ops/logger.js';
import type { DecisionLog } from '../../decision-log.js';
import type { Notification } from '../../notification.js';
import type { SendRecords } from './send-records.js';
import { suppressingEvents, type SuppressionReason, type Suppressions } from './suppressions.js';

export const defaultWebhookOptions = {
  maxAgeMs: 5 * 60_000, // a signed timestamp older (or further ahead) than this is refused
};

/** SendGrid event types turned into `email.<type>` stream events. */
export const trackedEvents = new Set([
  'processed',
  'deferred',
  'delivered',
  'open',
  'click',
  'bounce',
  'dropped',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
  'group_resubscribe',
]);

/** An event in protocol v1 shape, for `ingest.accept`. */
export interface TrackingEvent {
  id: string;
  type: string;
  ts: number;
  userId: string;
  /** `<event>: 1` (e.g. `open: 1`) lets one stream count each kind per template. */
  props: { notificationId: string; template: string } & Record<string, string | number>;
}

export interface WebhookDeps {
  /** The verification key from SendGrid's Mail Settings: base64 DER, or PEM. */
  publicKey: string;
  /** Hands events to the stream (e.g. `(p, e) => ingest.accept(p, e).durable`). */
  ingestEvents: (project: string, events: TrackingEvent[]) => unknown;
  suppressions: Pick<Suppressions, 'suppress'>;
  records: Pick<SendRecords, 'confirm'>;
  /** Records a disabled email in the decision log (see `decisionRecorder`). */
  recordSuppression: (
    project: string,
    userId: string,
    notificationId: string,
    reason: string,
  ) => void;
  knownProject?: (project: string) => boolean;
  log?: Logger;
}

export type HeaderCheck = 'ok' | 'unsigned' | 'stale';

export interface WebhookResult {
  events: number;
  tracked: number;
  suppressed: number;
  ignored: number;
}

/**
 * SendGrid's signed event webhook: checks the ECDSA signature over timestamp + body with
 * @sendgrid/eventwebhook and the timestamp's age (401 `BAD_SIGNATURE` otherwise), then for
 * each event sent by backline (its `custom_args` name project, user and notification):
 * confirms the send record, disables email on bounce (not `blocked`), dropped, spam report
 * and unsubscribe, and hands `email.<event>` events to the stream. Safe to repeat: SendGrid
 * retries a delivery that did not get a 2xx, and event ids (`sg_event_id`) de-duplicate.
 *
 * @example
 * const webhook = createSendGridWebhook({ publicKey, ingestEvents, suppressions, records, recordSuppression });
 * await webhook.handle(body, signatureHeader, timestampHeader); // { events: 3, tracked: 3, … }
 */
export function createSendGridWebhook(
  deps: WebhookDeps,
  options: Partial<typeof defaultWebhookOptions> = {},
  now = Date.now,
) {
  const { maxAgeMs } = { ...defaultWebhookOptions, ...options };
  const verifier = new EventWebhook();
  // Throws at start on a malformed key, not on the first event.
  const key = verifier.convertPublicKeyToECDSA(deps.publicKey);

  /**
   * What the signature headers alone tell, before any body is read: `unsigned` (missing or
   * malformed), `stale` (timestamp further than `maxAgeMs` from now) or `ok` (worth verifying).
   */
  function checkHeaders(signature?: string, timestamp?: string): HeaderCheck {
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return 'unsigned';
    return Math.abs(now() - Number(timestamp) * 1000) > maxAgeMs ? 'stale' : 'ok';
  }

  function verify(payload: Buffer, signature?: string, timestamp?: string): boolean {
    if (!signature || !timestamp || checkHeaders(signature, timestamp) !== 'ok') return false;
    try {
      return verifier.verifySignature(key, payload, signature, timestamp);
    } catch {
      return false; // not base64 DER at all
    }
  }

  async function apply(raw: Record<string, unknown>, byProject: Map<string, TrackingEvent[]>) {
    const event = toTrackingEvent(raw, now);
    const project = raw.project;
    if (!event || typeof project !== 'string' || deps.knownProject?.(project) === false)
      return 'ignored';
    const { notificationId } = event.props;
    await deps.records.confirm(project, notificationId, `sendgrid event: ${raw.event}`);
    let suppressed = false;
    const reason = suppressionOf(raw);
    if (reason) {
      const detail = String(event.props.reason ?? event.props.status ?? '');
      const fields = { reason, email: stringOr(raw.email), notificationId, detail };
      suppressed = await deps.suppressions.suppress(project, event.userId, fields);
      if (suppressed) {
        const why = `email_disabled: ${reason}${detail ? ` (${detail})` : ''}`;
        deps.recordSuppression(project, event.userId, notificationId, why);
      }
    }
    const batch = byProject.get(project);
    if (batch) batch.push(event);
    else byProject.set(project, [event]);
    return suppressed ? 'suppressed' : 'tracked';
  }

  return {
    checkHeaders,
    verify,
    /** Throws BAD_SIGNATURE (401) or BAD_JSON (400); ingest errors (503) pass through. */
    async handle(payload: Buffer, signature?: string, timestamp?: string): Promise<WebhookResult> {
      if (!verify(payload, signature, timestamp)) throw new BacklineError('BAD_SIGNATURE');
      const events = parseEvents(payload);
      const result: WebhookResult = {
        events: events.length,
        tracked: 0,
        suppressed: 0,
        ignored: 0,
      };
      const byProject = new Map<string, TrackingEvent[]>();
      for (const raw of events) {
        const outcome = await apply(raw, byProject);
        result[outcome] += 1;
        if (outcome === 'suppressed') result.tracked += 1;
      }
      for (const [project, tracked] of byProject) await deps.ingestEvents(project, tracked);
      deps.log?.debug({ ...result }, 'sendgrid events');
      return result;
    },
  };
}

export type SendGridWebhook = ReturnType<typeof createSendGridWebhook>;

/**
 * `recordSuppression` over the decision log: outcome `suppressed` on channel `email` for the
 * notification whose event disabled email, so `GET /v1/users/:id/decisions` shows why.
 */
export function decisionRecorder(decisions: Pick<DecisionLog, 'record'>) {
  return (project: string, userId: string, notificationId: string, reason: string): void => {
    const notification: Notification = {
      ...{ project, userId, id: notificationId, ts: Date.now(), rule: '', category: '' },
      ...{ title: '', body: '', data: {}, priority: 'normal', dedupKey: undefined },
      ...{ channels: ['email'], template: undefined, variables: {} },
    };
    decisions.record(notification, 'suppressed', reason, 'email');
  };
}

function parseEvents(payload: Buffer): Array<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new BacklineError('BAD_JSON', `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new BacklineError('BAD_JSON', 'expected an array of events');
  return parsed.filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object');
}

function suppressionOf(raw: Record<string, unknown>): SuppressionReason | undefined {
  const type = raw.event as SuppressionReason;
  if (!suppressingEvents.includes(type)) return undefined;
  // `blocked` is SendGrid's temporary bounce (the receiving server refused for now).
  return type === 'bounce' && raw.type === 'blocked' ? undefined : type;
}

/** An event backline sent (its custom_args are there) in protocol v1 shape; else undefined. */
function toTrackingEvent(raw: Record<string, unknown>, now: () => number) {
  const type = stringOr(raw.event);
  const userId = stringOr(raw.user_id);
  const notificationId = stringOr(raw.notification_id);
  if (!type || !trackedEvents.has(type) || !userId || !notificationId) return undefined;
  const seconds = typeof raw.timestamp === 'number' ? raw.timestamp : now() / 1000;
  const props: TrackingEvent['props'] = {
    notificationId,
    template: stringOr(raw.template) ?? 'default',
    [type]: 1,
  };
  const optional = { url: raw.url, reason: raw.reason, status: raw.status, bounceType: raw.type };
  for (const [name, value] of Object.entries(optional))
    if (typeof value === 'string' && value) props[name] = value.slice(0, 2048);
  const id = stringOr(raw.sg_event_id) ?? digest(JSON.stringify(raw));
  return {
    id: `sg-${id}`.slice(0, 128),
    type: `email.${type}`,
    ts: Math.round(seconds * 1000),
    userId,
    props,
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

const stringOr = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
