import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { BacklineError, isBacklineError } from '../../errors.js';
import type { HeaderCheck, SendGridWebhook } from '../../notify/channels/email/webhook.js';
import type { SesWebhook } from '../../notify/channels/email/ses-webhook.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import { readCappedBody, tooLarge } from './capped-body.js';
import type { Reply } from './reply.js';
import { createOpenRoutes } from './route.js';

/**
 * Limits on bodies nobody has verified yet: anyone can post one, so each is refused before it
 * is read when its headers already say no, and the memory they take is bounded by
 * `maxBodyBytes × maxInFlight`.
 */
export const defaultWebhookLimits = {
  maxBodyBytes: 256 * 1024, // bytes; SendGrid posts batches of a few KB, past this 413 unread
  maxInFlight: 16, // bodies being received at once; past this 503 with Retry-After
  bodyTimeoutMs: 10_000, // to receive a whole body from its headers; then the connection drops
};

export type WebhookLimits = typeof defaultWebhookLimits;

const sendgridRoute = '/v1/webhooks/sendgrid';
const sesRoute = '/v1/webhooks/ses';
const snsTypes = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);
const busyRetryAfterMs = 1000;

/**
 * Provider webhooks, authenticated by the provider's signature rather than a project key:
 * `POST /v1/webhooks/sendgrid` (SendGrid's signed event webhook; each event names its project
 * in the `custom_args` backline sent). Answers 200 `{events, tracked, suppressed, ignored}`;
 * 401 `BAD_SIGNATURE` at the headers, body unread, when the signature headers are missing or
 * the timestamp is older than 5 minutes, or after the body when the signature does not verify;
 * 413 `FRAME_TOO_LARGE` past `maxBodyBytes` (unread); 503 `WEBHOOK_BUSY` with Retry-After past
 * `maxInFlight` bodies; 400 `BAD_JSON`; or the ingest error (503, with Retry-After) so SendGrid
 * retries the batch. `POST /v1/webhooks/ses` (SES's events through SNS, ses-webhook.ts):
 * 401 `BAD_SIGNATURE` at the headers when `x-amz-sns-message-type` is not an SNS type, else
 * after the body when its topic is not taken or its signature does not verify; 503
 * `SNS_CERT_UNAVAILABLE` when the signing certificate cannot be fetched; 200 with what it
 * did. Both share the limits. A body slower than `bodyTimeoutMs` loses its connection. Every
 * refusal is counted in `backline_webhook_refused_total{reason}`.
 *
 * @example
 * registerHttpWebhooks(app, { sendgrid: webhook, metrics, log }, { maxBodyBytes: 262144 });
 */
export function registerHttpWebhooks(
  app: TemplatedApp,
  deps: { sendgrid?: SendGridWebhook; ses?: SesWebhook; metrics: Metrics; log: Logger },
  options: Partial<WebhookLimits> = {},
): void {
  const { sendgrid, metrics } = deps;
  const limits = { ...defaultWebhookLimits, ...options };
  const refused = (reason: string) => metrics.webhookRefused.inc({ reason });
  let inFlight = 0;

  /** Why a request is refused on its headers alone, before one byte of its body is read. */
  function admit(headers: HeaderCheck, declaredBytes: number) {
    if (headers !== 'ok') return { reason: headers, error: new BacklineError('BAD_SIGNATURE') };
    if (declaredBytes > limits.maxBodyBytes)
      return { reason: 'too_large', error: tooLarge(limits.maxBodyBytes) };
    if (inFlight >= limits.maxInFlight) return { reason: 'busy', error: busy(limits.maxInFlight) };
    return undefined;
  }

  /** Reads an admitted body within the limits, then answers what `handle` made of it. */
  function receive(reply: Reply, res: HttpResponse, handle: (body: Buffer) => Promise<unknown>) {
    inFlight += 1;
    const bodyLimits = { maxBytes: limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs };
    readCappedBody(res, reply, bodyLimits, refused)
      .then(async (body) => {
        inFlight -= 1;
        if (body) reply.json(200, await handle(body));
      })
      .catch((err: unknown) => {
        if (isBacklineError(err) && err.code === 'BAD_SIGNATURE') refused('bad_signature');
        if (isBacklineError(err) && err.code === 'BAD_JSON') refused('bad_json');
        if (isBacklineError(err) && err.code === 'SNS_CERT_UNAVAILABLE') refused('no_certificate');
        reply.error(err);
      });
  }

  const route = createOpenRoutes(app, deps);
  if (sendgrid)
    route('post', sendgridRoute, (reply, req, res) => {
      // Headers are copied now: uWS frees `req` when this handler returns.
      const signature = req.getHeader('x-twilio-email-event-webhook-signature') || undefined;
      const timestamp = req.getHeader('x-twilio-email-event-webhook-timestamp') || undefined;
      const declaredBytes = Number(req.getHeader('content-length') || 0);
      const refusal = admit(sendgrid.checkHeaders(signature, timestamp), declaredBytes);
      if (refusal) {
        refused(refusal.reason);
        return reply.refuse(refusal.error);
      }
      receive(reply, res, (body) => sendgrid.handle(body, signature, timestamp));
    });
  const { ses } = deps;
  if (ses)
    route('post', sesRoute, (reply, req, res) => {
      const type = snsTypes.has(req.getHeader('x-amz-sns-message-type')) ? 'ok' : 'unsigned';
      const refusal = admit(type, Number(req.getHeader('content-length') || 0));
      if (refusal) {
        refused(refusal.reason);
        return reply.refuse(refusal.error);
      }
      receive(reply, res, (body) => ses.handle(body));
    });
}

const busy = (maxInFlight: number) =>
  new BacklineError('WEBHOOK_BUSY', `${maxInFlight} webhook bodies are being received already`, {
    retryAfterMs: busyRetryAfterMs,
  });
