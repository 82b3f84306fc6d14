import { createDecipheriv, createPublicKey, hkdfSync, verify, type ECDH } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';

/**
 * What a push service checks of a push message (RFC 8292 VAPID, RFC 8030 headers) and what
 * the browser does with it (RFC 8291 decryption), for the push-service double. Each check
 * throws a `Refusal` carrying the status a real push service answers.
 */

/**
 * http_ece ships no types. It is the reference implementation of RFC 8188 by one of the
 * RFC's authors; web-push bundles its own copy to encrypt, which is why this double also
 * decrypts with the independent RFC 8291 code below and requires both to agree.
 */
const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(
    body: Buffer,
    params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: Buffer },
  ): Buffer;
};

export class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

// RFC 8030 §7.2: push services must take 4096 bytes and may refuse more (413); the big ones do.
const maxMessageBytes = 4096;
const maxJwtLifetimeS = 24 * 3600; // RFC 8292 §2: `exp` at most 24 hours ahead
const clockSkewS = 60;

/** RFC 8292 §3: `Authorization: vapid t=<JWT>, k=<public key>`. */
export function checkVapid(
  authorization: string | undefined,
  origin: string,
  boundKey: string | undefined,
) {
  const match = /^vapid\s+(.+)$/i.exec(authorization ?? '');
  if (!match) throw new Refusal(400, 'Authorization is not `vapid t=…, k=…`');
  const params = new Map(
    match[1]!.split(',').map((param) => {
      const [name, ...value] = param.trim().split('=');
      return [name!.toLowerCase(), value.join('=')] as const;
    }),
  );
  const token = params.get('t');
  const k = params.get('k');
  if (!token || !k || !/^[A-Za-z0-9_-]+$/.test(k))
    throw new Refusal(400, 'vapid t= or k= is missing');
  const key = Buffer.from(k, 'base64url');
  if (key.length !== 65 || key[0] !== 0x04)
    throw new Refusal(400, 'k is not an uncompressed P-256 point');
  if (boundKey !== undefined && boundKey !== k)
    throw new Refusal(403, 'k is not the key this subscription was made with');

  const parts = token.split('.');
  if (parts.length !== 3) throw new Refusal(400, 'the JWT does not have three parts');
  const [head, body, signature] = parts as [string, string, string];
  if (json(head).alg !== 'ES256') throw new Refusal(400, 'the JWT is not ES256');
  const publicKey = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: key.subarray(1, 33).toString('base64url'),
      y: key.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const sig = Buffer.from(signature, 'base64url');
  const signed = Buffer.from(`${head}.${body}`);
  if (
    sig.length !== 64 ||
    !verify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)
  )
    throw new Refusal(400, 'the JWT signature does not verify with k');

  const { aud, exp, sub } = json(body);
  const now = Date.now() / 1000;
  if (aud !== origin) throw new Refusal(400, `aud ${String(aud)} is not ${origin}`);
  if (typeof exp !== 'number' || exp <= now) throw new Refusal(400, 'the JWT has expired');
  if (exp > now + maxJwtLifetimeS + clockSkewS)
    throw new Refusal(400, 'exp is more than 24 h ahead');
  if (typeof sub !== 'string' || !/^(mailto:|https:)/.test(sub))
    throw new Refusal(400, 'sub is not a mailto: or https: URL');
  return { aud, exp, sub };
}

function json(part: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new Refusal(400, 'a JWT part is not base64url JSON');
}

/** RFC 8030 §5.2–5.4 and RFC 8291 §4. */
export function checkHeaders(headers: IncomingHttpHeaders, body: Buffer): void {
  if (!/^\d+$/.test(String(headers.ttl ?? '')))
    throw new Refusal(400, 'TTL is missing or not seconds');
  const urgency = headers.urgency;
  if (urgency !== undefined && !['very-low', 'low', 'normal', 'high'].includes(urgency as string))
    throw new Refusal(400, `Urgency ${String(urgency)} is not very-low, low, normal or high`);
  const topic = headers.topic;
  if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic as string))
    throw new Refusal(400, 'Topic is not 1–32 base64url characters');
  if (body.length > maxMessageBytes)
    throw new Refusal(413, `${body.length} bytes is over ${maxMessageBytes}`);
  if (body.length > 0 && headers['content-encoding'] !== 'aes128gcm')
    throw new Refusal(400, 'Content-Encoding is not aes128gcm');
}

/** Both decryptions must succeed and agree, so a bug shared with web-push cannot pass. */
export function decryptPushMessage(body: Buffer, keys: ECDH, authSecret: Buffer): Buffer {
  if (body.length === 0) return body;
  const mine = decryptAes128gcm(body, keys, authSecret);
  const theirs = ece.decrypt(body, {
    version: 'aes128gcm',
    privateKey: keys,
    authSecret: authSecret,
  });
  if (!mine.equals(theirs)) throw new Refusal(400, 'the two decryptions disagree');
  return mine;
}

/** RFC 8291 §3.3–3.4 over RFC 8188 §2, one record (RFC 8291 §4). */
export function decryptAes128gcm(body: Buffer, receiver: ECDH, authSecret: Buffer): Buffer {
  if (body.length < 86 + 17) throw new Refusal(400, 'too short for an aes128gcm header and record');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  if (body[20] !== 65) throw new Refusal(400, 'keyid is not the 65-byte sender key');
  const senderKey = body.subarray(21, 86);
  const record = body.subarray(86);
  if (rs < 18 || record.length > rs)
    throw new Refusal(400, 'not exactly one record of at most rs bytes');
  const receiverKey = receiver.getPublicKey();
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiverKey, senderKey]);
  const ikm = hkdf(receiver.computeSecret(senderKey), authSecret, keyInfo, 32);
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  let padded: Buffer;
  try {
    padded = Buffer.concat([
      decipher.update(record.subarray(0, record.length - 16)),
      decipher.final(),
    ]);
  } catch {
    throw new Refusal(400, 'the record does not decrypt (wrong keys or tampered)');
  }
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Refusal(400, 'the last record does not end with delimiter 0x02');
  return padded.subarray(0, end);
}

const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer =>
  Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
