import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../errors.js';
import type { SendGridWebhook } from '../notify/email/webhook.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createReply, readBody } from './http-reply.js';

/** SendGrid posts batches of events as one JSON array; it stays well under this. */
export const maxWebhookBytes = 4 * 1024 * 1024;

const sendgridRoute = '/v1/webhooks/sendgrid';

/**
 * Provider webhooks, authenticated by the provider's signature rather than a project key:
 * `POST /v1/webhooks/sendgrid` (SendGrid's signed event webhook; each event names its project
 * in the `custom_args` backline sent). Answers 200 `{events, tracked, suppressed, ignored}`,
 * 401 `BAD_SIGNATURE` when the signature is missing, wrong or older than 5 minutes, 400
 * `BAD_JSON`, 413 `FRAME_TOO_LARGE`, or the ingest error (503, with Retry-After) so SendGrid
 * retries the batch.
 *
 * @example
 * registerHttpWebhooks(app, { sendgrid: webhook, metrics, log });
 */
export function registerHttpWebhooks(
  app: TemplatedApp,
  deps: { sendgrid: SendGridWebhook; metrics: Metrics; log: Logger },
): void {
  const { sendgrid, metrics, log } = deps;
  app.post(sendgridRoute, (res: HttpResponse, req: HttpRequest) => {
    // Headers are copied now: uWS frees `req` when this handler returns.
    const signature = req.getHeader('x-twilio-email-event-webhook-signature') || undefined;
    const timestamp = req.getHeader('x-twilio-email-event-webhook-timestamp') || undefined;
    const reply = createReply(res, log, (status) =>
      metrics.httpRequests.inc({ route: sendgridRoute, status }),
    );
    readBody(res, maxWebhookBytes)
      .then(async (body) => {
        if (!body)
          throw new BacklineError(
            'FRAME_TOO_LARGE',
            `a webhook body is at most ${maxWebhookBytes} bytes`,
          );
        reply.json(200, await sendgrid.handle(body, signature, timestamp));
      })
      .catch((err: unknown) => reply.error(err));
  });
}
