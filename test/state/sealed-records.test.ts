import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '../../src/cluster/redis-connection.js';
import { BacklineError } from '../../src/errors.js';
import { createSuppressions } from '../../src/notify/channels/email/suppressions.js';
import { createPushSubscriptions } from '../../src/notify/channels/web-push/push-subscriptions.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { openLmdbStateStore } from '../../src/state/lmdb-state-store.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import { createSealedRecords } from '../../src/state/sealed-records.js';
import { createSealer, isSealed, plainSealer, type UnsealReason } from '../../src/state/sealer.js';
import type { StateStore } from '../../src/state/state-store.js';
import { createTimers, type Timer } from '../../src/state/timers.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const log = pino({ level: 'silent' });
const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

/** A store and every byte it holds, as an attacker with the disk or the Redis dump reads them. */
interface RawStore {
  state: StateStore;
  bytes(): Promise<Buffer>;
  close(): Promise<void>;
}

let redisServer: RedisServer;
const clients: Redis[] = [];
beforeAll(async () => {
  redisServer = await startRedisServer();
});
afterAll(async () => {
  for (const client of clients) await client.quit();
  await redisServer.stop();
});

const backends: Array<[string, () => Promise<RawStore>]> = [
  [
    'lmdb',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'backline-sealed-'));
      const state = openLmdbStateStore(dir);
      return { state, bytes: async () => readFileSync(join(dir, 'data.mdb')), close: state.close };
    },
  ],
  [
    'redis',
    async () => {
      const prefix = `t-${randomUUID()}:`;
      const redis = await openRedis(redisServer.url, { keyPrefix: prefix });
      clients.push(redis);
      const raw = await openRedis(redisServer.url, { keyPrefix: '' });
      clients.push(raw);
      const bytes = async () => {
        const keys = await raw.keys(`${prefix}*`);
        const values = await Promise.all(
          keys.map(async (key) =>
            (await raw.type(key)) === 'string'
              ? ((await raw.getBuffer(key)) ?? Buffer.alloc(0))
              : Buffer.from((await raw.zrange(key, '0', '-1')).join('\n')),
          ),
        );
        return Buffer.concat(values);
      };
      return { state: createRedisStateStore(redis), bytes, close: async () => undefined };
    },
  ],
];

function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    p256dh: ecdh.getPublicKey().toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  };
}

/** The refusal of `read`, and the reasons the sealer counted for it. */
async function refusal(read: (sealer: ReturnType<typeof createSealer>) => Promise<unknown>) {
  const failures: UnsealReason[] = [];
  const sealer = createSealer([k2], { unsealFailed: (reason) => failures.push(reason) });
  const err = await read(sealer).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { code: err instanceof BacklineError ? err.code : err, failures };
}

describe.each(backends)('personal data at rest: %s', (_name, openStore) => {
  let store: RawStore;
  beforeAll(async () => {
    store = await openStore();
  });
  afterAll(() => store.close());

  it('keeps no email address, push endpoint or key, or timer payload in clear', async () => {
    const { state } = store;
    const sealer = createSealer([k1]);
    const email = `fan-${randomUUID()}@example.com`;
    const endpoint = `https://push.example/send/${randomUUID()}`;
    const keys = browserKeys();
    const secret = `seat-${randomUUID()}`;

    const preferences = createPreferences(state, sealer);
    await preferences.put('dev', 'u1', { email });
    const subscriptions = createPushSubscriptions(state, {}, Date.now, sealer);
    await subscriptions.add('dev', 'u1', { endpoint, expirationTime: null, keys });
    const suppressions = createSuppressions(state, Date.now, sealer);
    await suppressions.suppress('dev', 'u2', {
      reason: 'bounce',
      email,
      notificationId: 'n1',
      detail: '550',
    });
    const timers = createTimers(state, log, {}, sealer);
    await timers.schedule('deferred', Date.now() - 1, { variables: { seat: secret } });

    const raw = (await store.bytes()).toString('latin1');
    // The bytes read are the store's: its keys are there, in clear.
    expect(raw).toContain('pref/dev/u1');
    for (const plain of [email, endpoint, keys.p256dh, keys.auth, secret])
      expect(raw).not.toContain(plain);

    expect((await preferences.get('dev', 'u1')).email).toBe(email);
    expect(await subscriptions.list('dev', 'u1')).toMatchObject([{ endpoint, keys }]);
    expect((await suppressions.blocks('dev', 'u2', email))?.email).toBe(email);
    const fired: Timer[] = [];
    timers.on('deferred', async (timer) => void fired.push(timer));
    expect(await timers.fireDue()).toBe(1);
    expect(fired[0]!.payload).toEqual({ variables: { seat: secret } });
  });

  it('re-seals a record of an older key with the current one when it is read', async () => {
    const { state } = store;
    const records = (sealer = createSealer([k1])) =>
      createSealedRecords<{ email?: string; n: number }>(state, sealer, ['email']);
    await records().put('r/rotate', { email: 'old@example.com', n: 1 });
    expect(await state.get('r/rotate')).toMatchObject({ n: 1, email: { kid: 'k1' } });

    let resealed = 0;
    const rotated = createSealer([k2, k1], { resealed: () => void resealed++ });
    expect(await records(rotated).get('r/rotate')).toEqual({ email: 'old@example.com', n: 1 });
    expect(await state.get('r/rotate')).toMatchObject({ n: 1, email: { kid: 'k2' } });
    expect(resealed).toBe(1);
    // Now sealed with k2 alone: k1 can leave the ring.
    expect((await records(createSealer([k2])).get('r/rotate'))?.email).toBe('old@example.com');
    await records(rotated).get('r/rotate');
    expect(resealed).toBe(1);
  });

  it('reads records written without a key once a key is set, and seals them on read or write', async () => {
    const { state } = store;
    const records = (sealer = plainSealer) =>
      createSealedRecords<{ email?: string }>(state, sealer, ['email']);
    await records().put('r/legacy-read', { email: 'legacy-read@example.com' });
    await records().put('r/legacy-write', { email: 'legacy-write@example.com' });
    expect(await state.get('r/legacy-read')).toEqual({ email: 'legacy-read@example.com' });

    const keyed = records(createSealer([k1]));
    expect((await keyed.get('r/legacy-read'))?.email).toBe('legacy-read@example.com');
    await keyed.update('r/legacy-write', (current) => ({ ...current }));
    const raw = (await store.bytes()).toString('latin1');
    expect(isSealed((await state.get<{ email: unknown }>('r/legacy-read'))?.email)).toBe(true);
    expect(isSealed((await state.get<{ email: unknown }>('r/legacy-write'))?.email)).toBe(true);
    if (_name === 'redis') {
      // LMDB may keep freed pages of the old plain value until they are reused.
      expect(raw).not.toContain('legacy-read@example.com');
      expect(raw).not.toContain('legacy-write@example.com');
    }
  });

  it('answers SEALED_UNREADABLE, counted, for a record no key opens, and leaves it as it was', async () => {
    const { state } = store;
    const preferences = createPreferences(state, createSealer([k1]));
    await preferences.put('dev', 'locked', { email: 'locked@example.com' });
    const before = await state.get('pref/dev/locked');

    const missing = await refusal(() => createPreferences(state, plainSealer).get('dev', 'locked'));
    expect(missing.code).toBe('SEALED_UNREADABLE');
    const wrong = await refusal((sealer) => createPreferences(state, sealer).get('dev', 'locked'));
    expect(wrong).toEqual({ code: 'SEALED_UNREADABLE', failures: ['unknown_key'] });
    const other = { id: 'k1', key: randomBytes(32) };
    const failures: UnsealReason[] = [];
    const impostor = createSealer([other], { unsealFailed: (r) => void failures.push(r) });
    await expect(createPreferences(state, impostor).get('dev', 'locked')).rejects.toMatchObject({
      code: 'SEALED_UNREADABLE',
    });
    expect(failures).toEqual(['bad_tag']);
    expect(await state.get('pref/dev/locked')).toEqual(before);
  });

  it('keeps a timer whose payload no key opens, and fires it once the key is back', async () => {
    const { state } = store;
    const kind = `k-${randomUUID()}`;
    await createTimers(state, log, {}, createSealer([k1])).schedule(kind, Date.now() - 1, {
      userId: 'u9',
    });
    const failures: UnsealReason[] = [];
    const keyless = createTimers(
      state,
      log,
      {},
      createSealer([], { unsealFailed: (r) => void failures.push(r) }),
    );
    const fired: unknown[] = [];
    keyless.on(kind, async (timer) => void fired.push(timer.payload));
    expect(await keyless.fireDue()).toBe(0);
    expect(failures).toEqual(['no_key']);
    expect(fired).toEqual([]);

    const keyed = createTimers(state, log, {}, createSealer([k2, k1]));
    keyed.on(kind, async (timer) => void fired.push(timer.payload));
    expect(await keyed.fireDue()).toBe(1);
    expect(fired).toEqual([{ userId: 'u9' }]);
  });

  it('passes over due timers no key opens, so they hold back none due after them', async () => {
    const { state } = store;
    const kind = `k-${randomUUID()}`;
    const sealed = createTimers(state, log, {}, createSealer([k1]));
    for (let i = 0; i < 3; i++) await sealed.schedule(kind, Date.now() - 10 + i, { i });
    await createTimers(state, log).schedule(kind, Date.now(), { plain: true });

    const keyless = createTimers(state, log, { batch: 2 }, plainSealer);
    const fired: unknown[] = [];
    keyless.on(kind, async (timer) => void fired.push(timer.payload));
    expect(await keyless.fireDue()).toBe(1);
    expect(fired).toEqual([{ plain: true }]);
    // The sealed ones wait for their key.
    const keyed = createTimers(state, log, {}, createSealer([k1]));
    keyed.on(kind, async (timer) => void fired.push(timer.payload));
    expect(await keyed.fireDue()).toBe(3);
  });
});
