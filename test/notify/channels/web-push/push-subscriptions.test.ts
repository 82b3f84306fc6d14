import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BacklineError } from '../../../../src/errors.js';
import {
  createPushSubscriptions,
  parsePushSubscription,
  subscriptionId,
} from '../../../../src/notify/channels/web-push/push-subscriptions.js';
import { openLmdbStateStore } from '../../../../src/state/lmdb-state-store.js';
import { createMemoryStateStore } from '../../../../src/state/memory-state-store.js';
import type { StateStore } from '../../../../src/state/state-store.js';
import { sharedRedisState } from '../../../helpers/shared-redis-state.js';

/** What `JSON.stringify(pushSubscription)` gives in a browser. */
function browserSubscription(
  endpoint = `https://push.example/send/${randomBytes(8).toString('hex')}`,
) {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  return {
    endpoint,
    expirationTime: null,
    keys: {
      p256dh: keys.getPublicKey().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    },
  };
}

function refusal(value: unknown): { code: string; message: string } {
  try {
    parsePushSubscription(value);
  } catch (err) {
    if (err instanceof BacklineError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('accepted');
}

describe('parsePushSubscription', () => {
  it('accepts a browser subscription, with or without padding or expirationTime', () => {
    const sub = browserSubscription();
    expect(parsePushSubscription(sub)).toEqual(sub);
    const { expirationTime: _drop, ...noExpiry } = sub;
    expect(parsePushSubscription(noExpiry).expirationTime).toBeNull();
    const padded = { ...sub, keys: { ...sub.keys, auth: `${sub.keys.auth}==` } };
    expect(parsePushSubscription(padded).keys.auth).toBe(sub.keys.auth);
    const loopback = browserSubscription('http://127.0.0.1:9/push/x');
    expect(parsePushSubscription(loopback).endpoint).toBe('http://127.0.0.1:9/push/x');
  });

  const sub = browserSubscription();
  const bad: Array<[string, unknown, string]> = [
    [
      'an http endpoint off this machine',
      { ...sub, endpoint: 'http://push.example/x' },
      'endpoint',
    ],
    ['an endpoint that is no URL', { ...sub, endpoint: 'push.example/x' }, 'endpoint'],
    [
      'a p256dh of 64 bytes',
      { ...sub, keys: { ...sub.keys, p256dh: sub.keys.p256dh.slice(0, -2) } },
      'keys.p256dh',
    ],
    [
      'a p256dh that is not a P-256 point',
      { ...sub, keys: { ...sub.keys, p256dh: Buffer.alloc(65, 4).toString('base64url') } },
      'keys.p256dh',
    ],
    [
      'an auth of 8 bytes',
      { ...sub, keys: { ...sub.keys, auth: randomBytes(8).toString('base64url') } },
      'keys.auth',
    ],
    [
      'standard base64 characters',
      { ...sub, keys: { ...sub.keys, auth: 'ab+/ab+/ab+/ab+/ab+/ab' } },
      'keys.auth',
    ],
    ['no keys', { endpoint: sub.endpoint }, 'keys'],
    ['not an object', 'https://push.example/x', '(body)'],
  ];
  it.each(bad)('refuses %s with BAD_SUBSCRIPTION naming the field', (_what, value, field) => {
    const { code, message } = refusal(value);
    expect(code).toBe('BAD_SUBSCRIPTION');
    expect(message.startsWith(`${field}:`)).toBe(true);
  });
});

const stores: Array<[string, () => StateStore]> = [
  ['memory', createMemoryStateStore],
  ['lmdb', () => openLmdbStateStore(mkdtempSync(join(tmpdir(), 'backline-push-subs-')))],
];

describe.each(stores)('push subscriptions (%s state)', (_name, open) => {
  it('adds, lists and removes per user; the same endpoint again is one subscription', async () => {
    const store = createPushSubscriptions(open());
    const a = parsePushSubscription(browserSubscription());
    const b = parsePushSubscription(browserSubscription());
    const stored = await store.add('p', 'user/1', a);
    expect(stored.id).toBe(subscriptionId(a.endpoint));
    await store.add('p', 'user/1', a);
    await store.add('p', 'user', b);
    expect((await store.list('p', 'user/1')).map((s) => s.endpoint)).toEqual([a.endpoint]);
    expect((await store.list('p', 'user')).map((s) => s.endpoint)).toEqual([b.endpoint]);
    expect(await store.list('other-project', 'user/1')).toEqual([]);
    expect(await store.has('p', 'user/1')).toBe(true);
    expect(await store.remove('p', 'user/1', b.endpoint)).toBe(false);
    expect(await store.remove('p', 'user/1', a.endpoint)).toBe(true);
    expect(await store.has('p', 'user/1')).toBe(false);
    expect(await store.has('p', 'user')).toBe(true);
  });

  it('moves an endpoint to the user who subscribed it last (a shared browser)', async () => {
    const store = createPushSubscriptions(open());
    const shared = parsePushSubscription(browserSubscription());
    await store.add('p', 'alice', shared);
    await store.add('p', 'bob', shared);
    expect(await store.list('p', 'alice')).toEqual([]);
    expect((await store.list('p', 'bob')).map((s) => s.endpoint)).toEqual([shared.endpoint]);
  });

  it('keeps at most maxPerUser, replacing the one least recently sent', async () => {
    let clock = 1000;
    const store = createPushSubscriptions(open(), { maxPerUser: 2 }, () => clock++);
    const [one, two, three] = [1, 2, 3].map(() => parsePushSubscription(browserSubscription()));
    await store.add('p', 'u', one!);
    await store.add('p', 'u', two!);
    await store.add('p', 'u', one!); // the browser of `one` sent it again: `two` is now oldest
    await store.add('p', 'u', three!);
    const left = (await store.list('p', 'u')).map((s) => s.endpoint).sort();
    expect(left).toEqual([one!.endpoint, three!.endpoint].sort());
  });
});

it('leaves an endpoint with one user when two users subscribe it on two nodes at once', async () => {
  const shared = await sharedRedisState();
  const [a, b] = shared.nodes.map((state) => createPushSubscriptions(state));
  const endpoints = Array.from({ length: 20 }, () => parsePushSubscription(browserSubscription()));
  await Promise.all(
    endpoints.flatMap((endpoint) => [a!.add('p', 'alice', endpoint), b!.add('p', 'bob', endpoint)]),
  );
  const held = [...(await a!.list('p', 'alice')), ...(await b!.list('p', 'bob'))];
  expect(held.map((s) => s.endpoint).sort()).toEqual(endpoints.map((e) => e.endpoint).sort());
  await shared.stop();
});
