import { MailService, type MailDataRequired } from '@sendgrid/mail';
import { eachLimited } from '../../../lib/each-limited.js';
import { retryAfterMs } from '../../retry-after.js';
import type { EmailMessage, EmailProvider, ProviderResult } from './providers.js';
import { escapeHtml } from './render-email.js';

export const defaultSendGridOptions = {
  baseUrl: 'https://api.sendgrid.com', // tests and relays point it elsewhere
  timeoutMs: 15_000, // per request
  maxPersonalizations: 1000, // SendGrid v3: at most 1,000 personalizations per request
  concurrency: 8, // requests in flight per batch
};

/** The part of @sendgrid/client that MailService holds but does not declare. */
interface SendGridClient {
  setDefaultRequest(key: 'baseUrl', value: string): unknown;
}

/**
 * Email through SendGrid's v3 `/v3/mail/send` with @sendgrid/mail. Messages with the same
 * sender, template and rendered body (a campaign) share one request, one personalization
 * per recipient (at most 1,000 per request); bodies that differ only by the recipient's own
 * unsubscribe link are one body with a `substitutions` tag in its place (sharedBody). Each
 * personalization carries its own subject, an
 * `X-Backline-Notification` header and `custom_args {notification_id, project, user_id,
 * template}` so the event webhook maps every event back. 2xx → delivered; 429, 5xx, 401,
 * 403 and network errors → retry (with Retry-After); other 4xx → failed.
 *
 * @example
 * const sendgrid = createSendGridProvider({ apiKey: 'SG.…' }, { baseUrl: 'http://127.0.0.1:3025' });
 * await sendgrid.send([message]); // [{ status: 'delivered', detail: 'sendgrid 202 …' }]
 */
export function createSendGridProvider(
  settings: { apiKey: string },
  options: Partial<typeof defaultSendGridOptions> = {},
): EmailProvider {
  const opts = { ...defaultSendGridOptions, ...options };
  const service = new MailService();
  service.setApiKey(settings.apiKey); // this also resets the base URL: set it after
  (service as unknown as { client: SendGridClient }).client.setDefaultRequest(
    'baseUrl',
    opts.baseUrl,
  );
  service.setTimeout(opts.timeoutMs);

  /**
   * One request; a 400 that names personalizations fails those messages and sends the others
   * again, so one bad address does not sink a campaign.
   */
  async function request(chunk: readonly SharedMessage[]): Promise<ProviderResult[]> {
    try {
      const [response] = await service.send(mailData(chunk));
      const id = headerOf(response.headers, 'x-message-id') ?? '';
      const detail = `sendgrid ${response.statusCode} ${id}`.trim();
      return chunk.map(() => ({ status: 'delivered', detail }));
    } catch (err) {
      const result = failure(err);
      const bad = badPersonalizations(err);
      if (result.status !== 'failed' || bad.size === 0 || bad.size === chunk.length)
        return chunk.map(() => result);
      const rest = await request(chunk.filter((_, i) => !bad.has(i)));
      return chunk.map((_, i) => (bad.has(i) ? result : rest.shift()!));
    }
  }

  return {
    name: 'sendgrid',
    async send(messages) {
      const results: ProviderResult[] = new Array(messages.length);
      const shared = messages.map(sharedBody);
      const requests = chunks(shared, opts.maxPersonalizations);
      await eachLimited(requests, opts.concurrency, async (indices) => {
        const answers = await request(indices.map((i) => shared[i]!));
        indices.forEach((messageIndex, k) => (results[messageIndex] = answers[k]!));
      });
      return results;
    },
  };
}

/** The substitution tags of an unsubscribe link, as the body shows them (the library wraps keys in `{{…}}`). */
const linkTags = { text: 'backline_unsubscribe_url', html: 'backline_unsubscribe_url_html' };

type SharedMessage = EmailMessage & { substitutions?: Record<string, string> };

/**
 * The message with its own unsubscribe link replaced by substitution tags in `html` (where
 * the link stands escaped) and `text`, and the link as the tags' values; as it is when the
 * body does not show the link as such (an unquoted attribute encodes it whole) or already
 * holds a tag's text.
 */
function sharedBody(m: EmailMessage): SharedMessage {
  const url = m.unsubscribeUrl;
  if (!url || `${m.html}${m.text}`.includes(`{{${linkTags.text}`)) return m;
  const escaped = escapeHtml(url);
  const html = m.html.split(escaped).join(`{{${linkTags.html}}}`);
  const text = m.text.split(url).join(`{{${linkTags.text}}}`);
  if (html === m.html && text === m.text) return m;
  return { ...m, html, text, substitutions: { [linkTags.text]: url, [linkTags.html]: escaped } };
}

/** Message indices grouped by what one request can share, cut at `max` per request. */
function chunks(messages: readonly EmailMessage[], max: number): number[][] {
  const groups = new Map<string, number[]>();
  messages.forEach((m, i) => {
    const key = JSON.stringify([m.from, m.replyTo ?? null, m.template, m.html, m.text]);
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const out: number[][] = [];
  for (const group of groups.values())
    for (let start = 0; start < group.length; start += max)
      out.push(group.slice(start, start + max));
  return out;
}

function mailData(chunk: readonly SharedMessage[]): MailDataRequired {
  const first = chunk[0]!;
  const content = [
    ...(first.text ? [{ type: 'text/plain', value: first.text }] : []),
    ...(first.html ? [{ type: 'text/html', value: first.html }] : []),
  ];
  return {
    from: first.from,
    ...(first.replyTo ? { replyTo: first.replyTo } : {}),
    subject: first.subject,
    content: content as MailDataRequired['content'] & { 0: { type: string; value: string } },
    categories: [first.template],
    personalizations: chunk.map((m) => ({
      to: [{ email: m.to }],
      subject: m.subject,
      headers: { ...m.headers, 'X-Backline-Notification': m.notificationId },
      ...(m.substitutions ? { substitutions: m.substitutions } : {}),
      customArgs: {
        notification_id: m.notificationId,
        project: m.project,
        user_id: m.userId,
        template: m.template,
      },
    })),
  };
}

/** The personalizations a 400 names (`personalizations.3.to.0.email`). */
function badPersonalizations(err: unknown): Set<number> {
  const body = (err as ResponseErrorLike | undefined)?.response?.body as
    { errors?: Array<{ field?: unknown }> } | undefined;
  const bad = new Set<number>();
  for (const error of body?.errors ?? []) {
    const match = /^personalizations\.(\d+)\./.exec(String(error.field ?? ''));
    if (match) bad.add(Number(match[1]));
  }
  return bad;
}

interface ResponseErrorLike {
  code?: unknown;
  message?: string;
  response?: { headers?: unknown; body?: unknown };
}

function failure(err: unknown): ProviderResult {
  const { code, message, response } = (err ?? {}) as ResponseErrorLike;
  if (typeof code !== 'number') {
    return { status: 'retry', reason: `sendgrid: network: ${String(code ?? message)}` };
  }
  const body = response?.body as { errors?: Array<{ message?: string; field?: string }> };
  const first = body?.errors?.[0];
  const why = [first?.field, first?.message].filter(Boolean).join(' ');
  const reason = why ? `sendgrid ${code}: ${why}` : `sendgrid ${code}`;
  if (code === 429 || code >= 500 || code === 401 || code === 403) {
    const afterMs = retryAfterMs(headerOf(response?.headers, 'retry-after'));
    return afterMs === undefined
      ? { status: 'retry', reason }
      : { status: 'retry', reason, afterMs };
  }
  return { status: 'failed', reason };
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const value = (headers as Record<string, unknown>)[name];
  return value === undefined || value === null ? undefined : String(value);
}
