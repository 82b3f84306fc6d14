import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import type { AddressInfo } from 'node:net';
import { validateMailSend } from './sendgrid-schema.js';

/** What the double answers to the next well-formed request (authenticated, valid body). */
export interface SendGridAnswer {
  status: 202 | 400 | 401 | 403 | 413 | 429 | 500 | 502 | 503;
  /** Sent as `Retry-After` (seconds). */
  retryAfterS?: number;
  /** Accept and record the message, then never answer: a crash mid-request. */
  hang?: boolean;
}

/** One recipient's email as the real service would send it. */
export interface AcceptedMessage {
  to: string;
  from: { email: string; name?: string };
  replyTo: { email: string; name?: string } | undefined;
  subject: string;
  text: string | undefined;
  html: string | undefined;
  headers: Record<string, string>;
  customArgs: Record<string, string>;
  categories: string[];
  messageId: string;
}

type Json = Record<string, unknown>;

/**
 * SendGrid's v3 `POST /v3/mail/send` on a real loopback HTTP server: `Authorization: Bearer
 * <key>` required (401), JSON body checked against the documented schema (400 with
 * `{errors:[{message, field, help}]}`) before any scripted answer, then scripted 202/400/429/500
 * answers for well-formed requests only, accepted messages recorded per recipient. It stands
 * in for the internet service, not for backline code.
 */
export async function startSendGridServer(apiKey = `SG.test-${randomBytes(8).toString('hex')}`) {
  const requests: Json[] = [];
  const messages: AcceptedMessage[] = [];
  const script: SendGridAnswer[] = [];
  let fallback: SendGridAnswer = { status: 202 };
  let received = 0;
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    received += 1;
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const body = await buffer(req);
    if (req.method !== 'POST' || req.url !== '/v3/mail/send') return answer(res, 404, 'Not found');
    if (req.headers.authorization !== `Bearer ${apiKey}`)
      return answer(res, 401, 'The provided authorization grant is invalid, expired, or revoked');
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
      return answer(res, 400, 'Content-Type should be application/json.');
    if (body.length > 30 * 1024 * 1024)
      return answer(res, 413, 'The JSON payload cannot be larger than 30 megabytes.');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(res, 400, 'Bad Request');
    }
    const errors = validateMailSend(parsed);
    if (errors.length > 0) return json(res, 400, { errors });
    // Scripted answers stand for the service's state (rate limit, outage), so a request the
    // real service would refuse as malformed is refused here too, whatever is scripted.
    const scripted = script.shift() ?? fallback;
    if (scripted.status !== 202) {
      const headers: Record<string, string> = {};
      if (scripted.retryAfterS !== undefined) headers['retry-after'] = String(scripted.retryAfterS);
      return answer(res, scripted.status, `scripted ${scripted.status}`, null, headers);
    }
    const messageId = randomBytes(11).toString('base64url');
    requests.push(parsed as Json);
    messages.push(...flatten(parsed as Json, messageId));
    if (scripted.hang) return void hanging.add(res);
    res.writeHead(202, { 'x-message-id': messageId }).end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    /** Accepted request bodies, in order. */
    requests,
    /** Accepted emails, one per recipient. */
    messages,
    /** Every request that reached the server, accepted or not. */
    get received() {
      return received;
    },
    /** Answers for the next well-formed requests, in order; afterwards `always` (default 202). */
    script(...answers: SendGridAnswer[]) {
      script.push(...answers);
    },
    always(answer: SendGridAnswer) {
      fallback = answer;
    },
    notificationIds: () => messages.map((m) => m.customArgs.notification_id),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type SendGridServer = Awaited<ReturnType<typeof startSendGridServer>>;

/**
 * One message per recipient, as SendGrid makes them: each personalization's `substitutions`
 * replace their tags in the subject and the body (every occurrence, as the service does).
 */
function flatten(body: Json, messageId: string): AcceptedMessage[] {
  const content = (body.content as Array<{ type: string; value: string }> | undefined) ?? [];
  const part = (type: string) => content.find((c) => c.type === type)?.value;
  return (body.personalizations as Json[]).flatMap((p) => {
    const substitutions = Object.entries((p.substitutions ?? {}) as Record<string, string>);
    const substituted = (text: string | undefined) =>
      text === undefined
        ? undefined
        : substitutions.reduce((out, [tag, value]) => out.split(tag).join(value), text);
    return (p.to as Array<{ email: string }>).map((to) => ({
      to: to.email,
      from: body.from as AcceptedMessage['from'],
      replyTo: body.reply_to as AcceptedMessage['replyTo'],
      subject: substituted((p.subject ?? body.subject) as string)!,
      text: substituted(part('text/plain')),
      html: substituted(part('text/html')),
      headers: { ...(body.headers as Json), ...(p.headers as Json) } as Record<string, string>,
      customArgs: { ...(body.custom_args as Json), ...(p.custom_args as Json) } as Record<
        string,
        string
      >,
      categories: (body.categories as string[] | undefined) ?? [],
      messageId,
    }));
  });
}

function answer(
  res: ServerResponse,
  status: number,
  message: string,
  field: string | null = null,
  headers: Record<string, string> = {},
) {
  json(res, status, { errors: [{ message, field, help: null }] }, headers);
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body));
}

/**
 * Signs event webhook payloads as SendGrid does: ECDSA P-256 with SHA-256 over timestamp +
 * body, the signature base64 DER, the public key base64 DER (SubjectPublicKeyInfo) as the
 * Mail Settings page shows it.
 */
export function createWebhookSigner() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signWith = (payload: string, timestamp: string) =>
    sign('sha256', Buffer.from(timestamp + payload), privateKey).toString('base64');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    sign: signWith,
    /** The headers SendGrid sends with `payload`, signed at `atMs`. */
    headers(payload: string, atMs = Date.now()): Record<string, string> {
      const timestamp = String(Math.floor(atMs / 1000));
      return {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': signWith(payload, timestamp),
        'x-twilio-email-event-webhook-timestamp': timestamp,
      };
    },
  };
}

export type WebhookSigner = ReturnType<typeof createWebhookSigner>;

/** A SendGrid event for a message backline sent (its custom_args are top-level keys). */
export function sendgridEvent(
  event: string,
  message: Pick<AcceptedMessage, 'to' | 'customArgs' | 'messageId'>,
  extra: Json = {},
): Json {
  return {
    email: message.to,
    timestamp: Math.floor(Date.now() / 1000),
    event,
    sg_event_id: randomBytes(16).toString('base64url'),
    sg_message_id: `${message.messageId}.filter0001`,
    ...message.customArgs,
    ...extra,
  };
}
