import { SendEmailCommand, SESv2Client, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { eachLimited } from '../../../lib/each-limited.js';
import { retryAfterMs } from '../../retry-after.js';
import type { EmailAddress, EmailMessage, EmailProvider, ProviderResult } from './providers.js';

export const defaultSesOptions = {
  timeoutMs: 15_000, // per request
  concurrency: 16, // SendEmail calls in flight per batch (SES v2 sends one message per call)
};

export interface SesSettings {
  region: string;
  /** Another endpoint than the region's (a VPC endpoint, a relay, a test double). */
  endpoint?: string;
  /** Both or neither; without them the SDK's default chain (env, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** The configuration set whose event destination (SNS) publishes this mail's events. */
  configurationSet?: string;
}

/** The tags every message carries, so SES's events (through SNS) map back to backline. */
export const sesTags = {
  notification: 'backline_notification',
  project: 'backline_project',
  user: 'backline_user',
  template: 'backline_template',
} as const;

/**
 * SES tag values allow only ASCII letters, digits, `_` and `-`: values are base64url of their
 * UTF-8, which uses exactly those (the SNS webhook decodes them back).
 */
export const encodeTag = (value: string): string =>
  Buffer.from(value, 'utf8').toString('base64url');
export const decodeTag = (value: string): string =>
  Buffer.from(value, 'base64url').toString('utf8');

/** SES errors that pass: throttling, and an account paused or suspended (400 too). */
const passing = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'AccountSuspendedException',
  'SendingPausedException',
]);

/**
 * Email through Amazon SES's v2 API (`SendEmail`, `POST /v2/email/outbound-emails`) with
 * @aws-sdk/client-sesv2, signed with SigV4 by the SDK. One call per message (SES v2 sends a
 * simple message to one destination per call), `concurrency` at once. Each carries its own
 * headers (`List-Unsubscribe`, `X-Backline-Notification`) and tags naming notification,
 * project, user and template, so the SNS event webhook maps every event back.
 * 200 → delivered (`ses <MessageId>`); throttling (429 `TooManyRequestsException`,
 * `LimitExceededException`), 5xx, an account paused or suspended, credentials refused (403)
 * and network errors → retry (with Retry-After when SES gives one); any other 4xx
 * (`MessageRejected`, `BadRequestException`, an unverified MAIL FROM domain) → failed.
 *
 * @example
 * const ses = createSesProvider({ region: 'eu-west-1', configurationSet: 'backline' });
 * await ses.send([message]); // [{ status: 'delivered', detail: 'ses 0102018f…' }]
 */
export function createSesProvider(
  settings: SesSettings,
  options: Partial<typeof defaultSesOptions> = {},
): EmailProvider {
  const opts = { ...defaultSesOptions, ...options };
  const { accessKeyId, secretAccessKey } = settings;
  const client = new SESv2Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    maxAttempts: 1, // retries belong to the delivery's timers, which survive restarts
    requestHandler: { requestTimeout: opts.timeoutMs, connectionTimeout: opts.timeoutMs },
  });

  async function sendOne(m: EmailMessage): Promise<ProviderResult> {
    try {
      const out = await client.send(new SendEmailCommand(input(m, settings.configurationSet)));
      return { status: 'delivered', detail: `ses ${out.MessageId ?? ''}`.trim() };
    } catch (err) {
      return failure(err);
    }
  }

  return {
    name: 'ses',
    async send(messages) {
      const results: ProviderResult[] = new Array(messages.length);
      await eachLimited(messages, opts.concurrency, async (m, i) => {
        results[i] = await sendOne(m);
      });
      return results;
    },
    async close() {
      client.destroy();
    },
  };
}

const address = ({ email, name }: EmailAddress) =>
  name ? `"${name.replace(/["\\\r\n]/g, '')}" <${email}>` : email;

function input(m: EmailMessage, configurationSet: string | undefined): SendEmailCommandInput {
  const headers = { ...m.headers, 'X-Backline-Notification': m.notificationId };
  return {
    FromEmailAddress: address(m.from),
    Destination: { ToAddresses: [m.to] },
    ...(m.replyTo ? { ReplyToAddresses: [address(m.replyTo)] } : {}),
    Content: {
      Simple: {
        Subject: { Data: m.subject, Charset: 'UTF-8' },
        Body: {
          ...(m.text ? { Text: { Data: m.text, Charset: 'UTF-8' } } : {}),
          ...(m.html ? { Html: { Data: m.html, Charset: 'UTF-8' } } : {}),
        },
        Headers: Object.entries(headers).map(([Name, Value]) => ({ Name, Value })),
      },
    },
    EmailTags: [
      { Name: sesTags.notification, Value: encodeTag(m.notificationId) },
      { Name: sesTags.project, Value: encodeTag(m.project) },
      { Name: sesTags.user, Value: encodeTag(m.userId) },
      { Name: sesTags.template, Value: encodeTag(m.template) },
    ],
    ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
  };
}

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

function failure(err: unknown): ProviderResult {
  const { name, message, code, $metadata, $response } = (err ?? {}) as SdkErrorLike;
  const status = $metadata?.httpStatusCode;
  if (status === undefined)
    return { status: 'retry', reason: `ses: network: ${code ?? name ?? String(message)}` };
  const reason = `ses ${status} ${name ?? ''}: ${message ?? ''}`.trim();
  const retried = passing.has(name ?? '') || status === 429 || status >= 500 || status === 403;
  if (!retried) return { status: 'failed', reason };
  const afterMs = retryAfterMs($response?.headers?.['retry-after']);
  return afterMs === undefined ? { status: 'retry', reason } : { status: 'retry', reason, afterMs };
}
