import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import type { AddressInfo } from 'node:net';

/** What the double answers to the next authenticated, well-formed request. */
export interface SesAnswer {
  status: 200 | 400 | 429 | 500 | 503;
  /** The error type SES names in `x-amzn-ErrorType` (400: `MessageRejected`, …). */
  error?: string;
  /** Sent as `Retry-After` (seconds). */
  retryAfterS?: number;
}

/** One accepted message, as SES would send it. */
export interface SesMessage {
  to: string;
  from: string;
  replyTo: string[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  headers: Record<string, string>;
  tags: Record<string, string>;
  configurationSet: string | undefined;
  messageId: string;
}

type Json = Record<string, unknown>;
type Refusal = { status: number; type: string; message: string };

const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const emailPattern = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
/** `a@b.example` or `"Display Name" <a@b.example>`, as SES takes addresses. */
const validAddress = (v: unknown): boolean => {
  if (typeof v !== 'string') return false;
  const named = /^(?:"[^"\r\n]*"|[^"<>\r\n]*) <([^<>]+)>$/.exec(v);
  return emailPattern.test(named ? named[1]! : v);
};
/** SES tag names and values: ASCII letters, digits, `_`, `-`; 1 to 256 characters. */
const tagPattern = /^[A-Za-z0-9_-]{1,256}$/;
/** Headers SES builds itself and refuses in `Content.Simple.Headers`. */
const reservedHeaders = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'reply-to',
  'return-path',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);
const maxSkewMs = 15 * 60_000; // SES refuses a signature older (or further ahead) than this

/**
 * Amazon SES's v2 `SendEmail` (`POST /v2/email/outbound-emails`) on a real loopback HTTP
 * server, as strict as the service: the SigV4 signature is computed again from the request
 * (canonical request, scope `<date>/<region>/ses/aws4_request`, the secret of the one access
 * key it knows) and must match, with `host` and `x-amz-date` signed and the date within 15
 * minutes (403 otherwise); the body is checked against the API's schema (400
 * `BadRequestException` naming the field) before any scripted answer. Accepted messages are
 * recorded. It stands in for the internet service, not for backline code.
 */
export async function startSesServer(region = 'eu-west-1') {
  const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const messages: SesMessage[] = [];
  const script: SesAnswer[] = [];
  const refusals: Refusal[] = [];
  let fallback: SesAnswer = { status: 200 };
  let received = 0;

  const server = createServer((req, res) => {
    buffer(req).then(
      (body) => handle(req, res, body),
      () => res.destroy(),
    );
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    received += 1;
    const refuse = (r: Refusal) => {
      refusals.push(r);
      res
        .writeHead(r.status, {
          'content-type': 'application/json',
          'x-amzn-errortype': `${r.type}:`,
          'x-amzn-requestid': randomBytes(8).toString('hex'),
        })
        .end(JSON.stringify({ message: r.message }));
    };
    if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails')
      return refuse({ status: 404, type: 'NotFoundException', message: 'no such operation' });
    const unsigned = checkSignature(req, body, { accessKeyId, secretAccessKey, region });
    if (unsigned) return refuse(unsigned);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse({ status: 400, type: 'SerializationException', message: 'body is not JSON' });
    }
    const invalid = validateSendEmail(parsed);
    if (invalid) return refuse({ status: 400, type: 'BadRequestException', message: invalid });
    const answer = script.shift() ?? fallback;
    if (answer.status !== 200) {
      if (answer.retryAfterS !== undefined)
        res.setHeader('retry-after', String(answer.retryAfterS));
      const type =
        answer.error ?? (answer.status === 429 ? 'TooManyRequestsException' : 'InternalFailure');
      return refuse({ status: answer.status, type, message: `scripted ${answer.status}` });
    }
    const messageId = `0102${randomBytes(12).toString('hex')}-000000`;
    messages.push(record(parsed as Json, messageId));
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ MessageId: messageId }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    region,
    accessKeyId,
    secretAccessKey,
    /** `email.ses` settings (region, endpoint, credentials) that point a server at this double. */
    settings: { region, endpoint: url, accessKeyId, secretAccessKey },
    /** Messages accepted, one per call. */
    messages,
    /** Every refusal the double answered (signature, schema, scripted), in order. */
    refusals,
    get received() {
      return received;
    },
    /** Answers for the next well-formed requests, in order; then `fallback`. */
    script(...answers: SesAnswer[]) {
      script.push(...answers);
    },
    setFallback(answer: SesAnswer) {
      fallback = answer;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type SesServer = Awaited<ReturnType<typeof startSesServer>>;

/** AWS Signature Version 4 of a request, checked as AWS checks it; a refusal or undefined. */
export function checkSignature(
  req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>,
  body: Buffer,
  key: { accessKeyId: string; secretAccessKey: string; region: string },
  now = Date.now(),
): Refusal | undefined {
  const denied = (type: string, message: string): Refusal => ({ status: 403, type, message });
  const auth = req.headers.authorization;
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth ?? '',
    );
  if (!match)
    return denied('MissingAuthenticationTokenException', 'missing or malformed Authorization');
  const [, accessKeyId, day, region, service, signedList, signature] = match as unknown as string[];
  if (accessKeyId !== key.accessKeyId)
    return denied(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!at) return denied('IncompleteSignatureException', 'x-amz-date is missing or malformed');
  const time = Date.UTC(+at[1]!, +at[2]! - 1, +at[3]!, +at[4]!, +at[5]!, +at[6]!);
  if (Math.abs(now - time) > maxSkewMs)
    return denied('InvalidSignatureException', 'Signature expired');
  if (day !== amzDate.slice(0, 8) || region !== key.region || service !== 'ses')
    return denied('SignatureDoesNotMatch', `credential scope ${day}/${region}/${service} is wrong`);
  const signed = signedList!.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date'))
    return denied('SignatureDoesNotMatch', 'host and x-amz-date must be signed');
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const declared = req.headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash && declared !== 'UNSIGNED-PAYLOAD')
    return denied('SignatureDoesNotMatch', 'x-amz-content-sha256 does not match the body');
  const [path = '/', query = ''] = (req.url ?? '/').split('?');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((pair) => pair.split('=').map((part) => encodeURIComponent(decodeURIComponent(part))))
    .sort(([a = '', b = ''], [c = '', d = '']) => (a === c ? (b < d ? -1 : 1) : a < c ? -1 : 1))
    .map(([name, value = '']) => `${name}=${value}`)
    .join('&');
  const headerValue = (name: string) => {
    const value = req.headers[name];
    return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
  };
  const canonical = [
    req.method,
    path,
    canonicalQuery,
    ...signed.map((name) => `${name}:${headerValue(name)}`),
    '',
    signedList,
    declared === 'UNSIGNED-PAYLOAD' ? declared : payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const hmac = (k: Buffer | string, data: string) => createHmac('sha256', k).update(data).digest();
  let signingKey = hmac(`AWS4${key.secretAccessKey}`, day!);
  for (const part of [region!, service!, 'aws4_request']) signingKey = hmac(signingKey, part);
  const expected = Buffer.from(hmac(signingKey, toSign).toString('hex'));
  const given = Buffer.from(signature!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return denied(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  return undefined;
}

/** The SendEmail body against the API reference; the first fault found, or undefined. */
export function validateSendEmail(body: unknown): string | undefined {
  if (!isObject(body)) return 'the body must be a JSON object';
  if (!validAddress(body.FromEmailAddress)) return 'FromEmailAddress: not a valid email address';
  const destination = body.Destination;
  if (!isObject(destination)) return 'Destination is required';
  const lists = ['ToAddresses', 'CcAddresses', 'BccAddresses'] as const;
  let recipients = 0;
  for (const list of lists) {
    const value = destination[list];
    if (value === undefined) continue;
    if (!Array.isArray(value)) return `Destination.${list} must be a list`;
    for (const [i, a] of value.entries())
      if (!validAddress(a)) return `Destination.${list}.${i}: not a valid email address`;
    recipients += value.length;
  }
  if (recipients === 0) return 'Destination: at least one recipient';
  if (recipients > 50) return 'Destination: at most 50 recipients';
  if (body.ReplyToAddresses !== undefined) {
    if (!Array.isArray(body.ReplyToAddresses)) return 'ReplyToAddresses must be a list';
    for (const [i, a] of body.ReplyToAddresses.entries())
      if (!validAddress(a)) return `ReplyToAddresses.${i}: not a valid email address`;
  }
  const content = body.Content;
  if (!isObject(content)) return 'Content is required';
  const kinds = ['Simple', 'Raw', 'Template'].filter((k) => content[k] !== undefined);
  if (kinds.length !== 1) return 'Content: exactly one of Simple, Raw and Template';
  if (kinds[0] === 'Simple') {
    const fault = validateSimple(content.Simple);
    if (fault) return fault;
  }
  if (body.EmailTags !== undefined) {
    if (!Array.isArray(body.EmailTags) || body.EmailTags.length > 50)
      return 'EmailTags: a list of at most 50 tags';
    for (const [i, tag] of body.EmailTags.entries()) {
      if (!isObject(tag)) return `EmailTags.${i}: {Name, Value}`;
      if (typeof tag.Name !== 'string' || !tagPattern.test(tag.Name))
        return `EmailTags.${i}.Name: only ASCII letters, numbers, _ and -, 1 to 256 characters`;
      if (typeof tag.Value !== 'string' || !tagPattern.test(tag.Value))
        return `EmailTags.${i}.Value: only ASCII letters, numbers, _ and -, 1 to 256 characters`;
    }
  }
  if (body.ConfigurationSetName !== undefined && typeof body.ConfigurationSetName !== 'string')
    return 'ConfigurationSetName must be a string';
  return undefined;
}

function validateSimple(simple: unknown): string | undefined {
  if (!isObject(simple)) return 'Content.Simple must be an object';
  const content = (value: unknown, at: string) => {
    if (!isObject(value) || typeof value.Data !== 'string') return `${at}.Data is required`;
    if (value.Charset !== undefined && typeof value.Charset !== 'string')
      return `${at}.Charset must be a string`;
    return undefined;
  };
  const subject = content(simple.Subject, 'Content.Simple.Subject');
  if (subject) return subject;
  const body = simple.Body;
  if (!isObject(body) || (body.Text === undefined && body.Html === undefined))
    return 'Content.Simple.Body: Text or Html';
  for (const part of ['Text', 'Html'] as const) {
    if (body[part] === undefined) continue;
    const fault = content(body[part], `Content.Simple.Body.${part}`);
    if (fault) return fault;
  }
  if (simple.Headers === undefined) return undefined;
  if (!Array.isArray(simple.Headers) || simple.Headers.length > 15)
    return 'Content.Simple.Headers: a list of at most 15 headers';
  for (const [i, header] of simple.Headers.entries()) {
    const at = `Content.Simple.Headers.${i}`;
    if (!isObject(header) || typeof header.Name !== 'string' || typeof header.Value !== 'string')
      return `${at}: {Name, Value} strings`;
    if (!/^[\x21-\x39\x3b-\x7e]{1,126}$/.test(header.Name))
      return `${at}.Name is not a header name`;
    if (reservedHeaders.has(header.Name.toLowerCase()))
      return `${at}.Name: ${header.Name} is set by SES`;
    if (header.Value.length > 870 || /[\r\n]/.test(header.Value))
      return `${at}.Value: at most 870 characters, no line breaks`;
  }
  return undefined;
}

function record(body: Json, messageId: string): SesMessage {
  const simple = (body.Content as Json).Simple as Json;
  const parts = simple.Body as Json;
  const data = (part: unknown) => (isObject(part) ? (part.Data as string) : undefined);
  const pairs = (list: unknown) =>
    Object.fromEntries(
      ((list as Json[] | undefined) ?? []).map((p) => [p.Name, p.Value]),
    ) as Record<string, string>;
  return {
    to: ((body.Destination as Json).ToAddresses as string[])[0]!,
    from: body.FromEmailAddress as string,
    replyTo: (body.ReplyToAddresses as string[] | undefined) ?? [],
    subject: data(simple.Subject)!,
    text: data(parts.Text),
    html: data(parts.Html),
    headers: pairs(simple.Headers),
    tags: pairs(body.EmailTags),
    configurationSet: body.ConfigurationSetName as string | undefined,
    messageId,
  };
}

/** An SES event of a sent message, as SES's event publishing puts it in an SNS message. */
export function sesEvent(
  message: SesMessage,
  eventType: string,
  detail: Record<string, unknown> = {},
): string {
  const tags = Object.fromEntries(Object.entries(message.tags).map(([k, v]) => [k, [v]]));
  const mail = {
    timestamp: new Date().toISOString(),
    messageId: message.messageId,
    source: message.from,
    destination: [message.to],
    tags: { 'ses:configuration-set': [message.configurationSet], ...tags },
  };
  const key = eventType.charAt(0).toLowerCase() + eventType.slice(1);
  return JSON.stringify({
    eventType,
    mail,
    [key]: { timestamp: new Date().toISOString(), ...detail },
  });
}

/** A tag backline set on a message (`backline_notification`, …), decoded (ses-provider.ts). */
export const sesTag = (message: SesMessage, name: string): string =>
  Buffer.from(message.tags[name] ?? '', 'base64url').toString('utf8');
