import { createECDH, createPrivateKey, sign } from 'node:crypto';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptAes128gcm } from './push-message-checks.js';
import { startPushService, type PushService } from './push-service.js';

/**
 * The push-service double must refuse what a real push service refuses, or the channel's
 * tests would prove nothing: each case breaks one thing in an otherwise valid message.
 */
let service: PushService;
beforeAll(async () => {
  service = await startPushService();
});
afterAll(() => service.close());

const vapid = { subject: 'mailto:ops@backline.invalid', ...webpush.generateVAPIDKeys() };

function message(subscription: webpush.PushSubscription, options = {}) {
  return webpush.generateRequestDetails(subscription, '{"hello":"push"}', {
    TTL: 60,
    contentEncoding: 'aes128gcm',
    vapidDetails: vapid,
    ...options,
  });
}

async function post(endpoint: string, headers: Record<string, unknown>, body: Buffer | null) {
  const { 'Content-Length': _length, ...rest } = headers;
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)])),
    body: body ?? undefined,
  });
  return res.status;
}

/** An ES256 JWT signed with the VAPID private key, with claims of the test's choosing. */
function jwt(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { typ: 'JWT', alg: 'ES256' },
) {
  const pub = Buffer.from(vapid.publicKey, 'base64url');
  const key = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: vapid.privateKey,
      x: pub.subarray(1, 33).toString('base64url'),
      y: pub.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${encode(header)}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' });
  return `${signed}.${signature.toString('base64url')}`;
}

describe('push-service double', () => {
  it('decrypts the RFC 8291 Appendix A message', () => {
    const receiver = createECDH('prime256v1');
    receiver.setPrivateKey(Buffer.from('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94', 'base64url'));
    const body = Buffer.from(
      'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
      'base64url',
    );
    const auth = Buffer.from('BTBZMqHH6r4Tts7J_aSIgg', 'base64url');
    expect(decryptAes128gcm(body, receiver, auth).toString()).toBe(
      'When I grow up, I want to be a watermelon',
    );
  });

  it('accepts what web-push builds and decrypts it', async () => {
    const { id, subscription } = service.subscribe({ applicationServerKey: vapid.publicKey });
    const { headers, body } = message(subscription, { urgency: 'high', topic: 'scores' });
    expect(await post(subscription.endpoint, headers, body)).toBe(201);
    expect(service.receivedFor(id)[0]).toMatchObject({
      plaintext: '{"hello":"push"}',
      claims: { aud: service.origin, sub: vapid.subject },
    });
  });

  type Breaker = (headers: Record<string, unknown>, body: Buffer) => Buffer | void;
  const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;
  /** A JWT with these claims, signed by the right key. */
  const claims =
    (make: () => Record<string, unknown>): Breaker =>
    (h) =>
      void (h.Authorization = `vapid t=${jwt(make())}, k=${vapid.publicKey}`);
  const valid = () => ({ aud: service.origin, exp: inSeconds(60), sub: vapid.subject });
  const otherKey = webpush.generateVAPIDKeys().publicKey;

  const refusals: Array<[string, number, RegExp, Breaker]> = [
    ['no Authorization', 400, /Authorization/, (h) => void delete h.Authorization],
    [
      'a JWT signed by another key than k',
      400,
      /signature/,
      (h) => void (h.Authorization = String(h.Authorization).replace(/k=.*$/, `k=${otherKey}`)),
    ],
    ['an expired JWT', 400, /expired/, claims(() => ({ ...valid(), exp: inSeconds(-60) }))],
    [
      'exp more than 24 h ahead',
      400,
      /24 h/,
      claims(() => ({ ...valid(), exp: inSeconds(25 * 3600) })),
    ],
    [
      'aud of another origin',
      400,
      /aud/,
      claims(() => ({ ...valid(), aud: 'https://push.example' })),
    ],
    ['sub neither mailto: nor https:', 400, /sub/, claims(() => ({ ...valid(), sub: 'ops' }))],
    ['no TTL', 400, /TTL/, (h) => void delete h.TTL],
    ['a bad Urgency', 400, /Urgency/, (h) => void (h.Urgency = 'asap')],
    ['a Topic over 32 characters', 400, /Topic/, (h) => void (h.Topic = 'x'.repeat(33))],
    [
      'another Content-Encoding',
      400,
      /Content-Encoding/,
      (h) => void (h['Content-Encoding'] = 'aesgcm'),
    ],
    [
      'a tampered ciphertext',
      400,
      /decrypt/,
      (_h, b) => {
        const copy = Buffer.from(b);
        copy[copy.length - 20]! ^= 1;
        return copy;
      },
    ],
    [
      'more than 4096 bytes',
      413,
      /4096/,
      (_h, b) => Buffer.concat([b, Buffer.alloc(4097 - b.length)]),
    ],
  ];

  it.each(refusals)('refuses %s (%i)', async (_what, status, reason, breakIt) => {
    // Not bound to a key, so a JWT signed by another key meets the signature check itself.
    const { id, subscription } = service.subscribe();
    const { headers, body } = message(subscription);
    const h = { ...headers } as Record<string, unknown>;
    const b = breakIt(h, body) ?? body;
    expect(await post(subscription.endpoint, h, b)).toBe(status);
    expect(service.receivedFor(id)).toEqual([]);
    expect(service.refused.find((r) => r.subscriptionId === id)?.reason).toMatch(reason);
  });

  it('refuses a VAPID key other than the subscription was made with (403)', async () => {
    const other = webpush.generateVAPIDKeys();
    const { id, subscription } = service.subscribe({ applicationServerKey: other.publicKey });
    const { headers, body } = message(subscription);
    expect(await post(subscription.endpoint, headers, body)).toBe(403);
    expect(service.receivedFor(id)).toEqual([]);
  });

  it('answers from the script, then 201, and 410 once unsubscribed', async () => {
    const { id, subscription } = service.subscribe();
    service.answer(id, { status: 429, retryAfter: '3' }, { status: 500 });
    const send = () => {
      const { headers, body } = message(subscription);
      return post(subscription.endpoint, headers, body);
    };
    expect([await send(), await send(), await send()]).toEqual([429, 500, 201]);
    service.unsubscribe(id);
    expect(await send()).toBe(410);
    expect(service.receivedFor(id).map((r) => r.status)).toEqual([429, 500, 201]);
  });
});
