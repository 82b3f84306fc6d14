import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { get } from 'node:https';
import { BacklineError } from '../../../errors.js';

export const defaultSnsOptions = {
  fetchTimeoutMs: 5000, // to fetch a signing certificate or confirm a subscription
  maxCertBytes: 16 * 1024, // a certificate larger than this is refused
  certsCached: 32, // signing certificates kept in memory, by URL
};

export type SnsOptions = typeof defaultSnsOptions & {
  /** SigningCertURL and SubscribeURL hosts allowed (https only): AWS's, or a test's. */
  certHostPattern: string;
};

export type SnsType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

/** An SNS message as posted to an HTTP(S) subscriber. */
export interface SnsMessage {
  Type: SnsType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

// The fields each type signs, in this order (AWS: "Verifying the signatures of Amazon SNS
// messages"); Subject only when the message has one.
const signed: Record<SnsType, ReadonlyArray<keyof SnsMessage>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    ...['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  ] as Array<keyof SnsMessage>,
  UnsubscribeConfirmation: [
    ...['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  ] as Array<keyof SnsMessage>,
};

const required = ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'Signature'] as const;

/** The body as an SNS message of a known type and signature version; BAD_JSON otherwise. */
export function parseSnsMessage(body: Buffer): SnsMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BacklineError('BAD_JSON', `not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new BacklineError('BAD_JSON', 'expected an SNS message object');
  const m = parsed as Record<string, unknown>;
  const missing = [...required, 'SigningCertURL'].filter((k) => typeof m[k] !== 'string');
  if (missing.length) throw new BacklineError('BAD_JSON', `missing ${missing.join(', ')}`);
  if (typeof m.Type !== 'string' || !Object.hasOwn(signed, m.Type))
    throw new BacklineError('BAD_JSON', `unknown SNS message type ${String(m.Type)}`);
  if (m.SignatureVersion !== '1' && m.SignatureVersion !== '2')
    throw new BacklineError('BAD_SIGNATURE', 'SignatureVersion is 1 or 2');
  if (
    m.Type !== 'Notification' &&
    (typeof m.SubscribeURL !== 'string' || typeof m.Token !== 'string')
  )
    throw new BacklineError('BAD_JSON', 'a subscription message has SubscribeURL and Token');
  return m as unknown as SnsMessage;
}

/** The text SNS signed: each signed field as `name\nvalue\n`, in order. */
export function stringToSign(message: SnsMessage): string {
  return signed[message.Type]
    .filter((key) => message[key] !== undefined)
    .map((key) => `${key}\n${message[key]}\n`)
    .join('');
}

/**
 * Verifies SNS messages: `SigningCertURL` must be https on a host matching `certHostPattern`;
 * the certificate (fetched once per URL, kept) must be valid now; the signature over the
 * signed fields must verify with it (SHA1withRSA for SignatureVersion 1, SHA256withRSA for
 * 2). Any failure throws BAD_SIGNATURE (401), except a certificate that cannot be fetched
 * (SNS_CERT_UNAVAILABLE, 503: SNS retries). `url` also checks a SubscribeURL before it is
 * visited. TLS is Node's, with its trusted CAs (`NODE_EXTRA_CA_CERTS` adds a test's own).
 *
 * @example
 * const sns = createSnsVerifier({ certHostPattern: '^sns\\.[a-z0-9-]+\\.amazonaws\\.com$' });
 * const message = await sns.verify(parseSnsMessage(body)); // or throws BAD_SIGNATURE
 */
export function createSnsVerifier(
  options: Partial<SnsOptions> & Pick<SnsOptions, 'certHostPattern'>,
  now = Date.now,
) {
  const opts = { ...defaultSnsOptions, ...options };
  const hosts = new RegExp(opts.certHostPattern);
  const certs = new Map<string, Promise<X509Certificate>>();

  /** The URL when https on an allowed host; BAD_SIGNATURE otherwise. */
  function url(text: string, what: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new BacklineError('BAD_SIGNATURE', `${what} is not a URL`);
    }
    if (parsed.protocol !== 'https:' || !hosts.test(parsed.hostname) || parsed.username)
      throw new BacklineError('BAD_SIGNATURE', `${what} is not https on an allowed host`);
    return parsed;
  }

  function certificate(at: URL): Promise<X509Certificate> {
    const key = at.href;
    let cert = certs.get(key);
    if (!cert) {
      cert = fetchText(at, opts).then((pem) => new X509Certificate(pem));
      // A failed fetch is not kept: the next message tries again.
      cert.catch(() => certs.delete(key));
      if (certs.size >= opts.certsCached) certs.delete(certs.keys().next().value!);
      certs.set(key, cert);
    }
    return cert;
  }

  async function verify(message: SnsMessage): Promise<SnsMessage> {
    const at = url(message.SigningCertURL, 'SigningCertURL');
    let cert: X509Certificate;
    try {
      cert = await certificate(at);
    } catch (err) {
      throw new BacklineError('SNS_CERT_UNAVAILABLE', `the signing certificate: ${String(err)}`, {
        retryAfterMs: 1000,
      });
    }
    const time = now();
    if (time < Date.parse(cert.validFrom) || time > Date.parse(cert.validTo))
      throw new BacklineError('BAD_SIGNATURE', 'the signing certificate is not valid now');
    const algorithm = message.SignatureVersion === '1' ? 'sha1' : 'sha256';
    const signature = Buffer.from(message.Signature, 'base64');
    const ok = verifySignature(
      algorithm,
      Buffer.from(stringToSign(message)),
      cert.publicKey,
      signature,
    );
    if (!ok) throw new BacklineError('BAD_SIGNATURE', 'the SNS signature does not verify');
    return message;
  }

  return { verify, url };
}

export type SnsVerifier = ReturnType<typeof createSnsVerifier>;

/** GETs `at` over https: the body's text when 200 and at most `maxCertBytes`. */
export function fetchText(at: URL, opts: Pick<SnsOptions, 'fetchTimeoutMs' | 'maxCertBytes'>) {
  return new Promise<string>((resolve, reject) => {
    const req = get(at, { timeout: opts.fetchTimeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`${at.host} answered ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > opts.maxCertBytes) req.destroy(new Error(`over ${opts.maxCertBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${opts.fetchTimeoutMs} ms`)));
    req.on('error', reject);
  });
}
