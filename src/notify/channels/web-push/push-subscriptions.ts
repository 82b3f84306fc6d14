import { ECDH, createHash } from 'node:crypto';
import { z } from 'zod';
import { BacklineError } from '../../../errors.js';
import { createSealedRecords } from '../../../state/sealed-records.js';
import { plainSealer, type Sealer } from '../../../state/sealer.js';
import { part, type StateStore } from '../../../state/state-store.js';
import { isLoopbackHost } from './outbound-url.js';

/** A browser `PushSubscription` as its `toJSON()` gives it. */
export interface PushSubscriptionJson {
  endpoint: string;
  expirationTime: number | null;
  keys: { p256dh: string; auth: string };
}

export interface StoredPushSubscription extends PushSubscriptionJson {
  /** base64url SHA-256 of the endpoint: the key segment and the id `POST` answers. */
  id: string;
  /** When the browser last sent it: the least recently sent goes first past `maxPerUser`. */
  updatedAt: number;
}

export const defaultPushSubscriptionOptions = {
  maxPerUser: 20, // a new subscription past this replaces the one least recently sent
};

/**
 * Push services are HTTPS; plain HTTP only to this machine, for local push-service doubles.
 * This is the form only: the outbound URL policy (outbound-url.ts) then judges the host.
 */
const endpointField = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
      );
    } catch {
      return false;
    }
  }, 'must be an https: URL (http: only to a loopback host, with push.allowInsecureLoopback)');

/** Browsers send base64url without padding; some polyfills pad. */
const keyField = (bytes: number, extra?: (decoded: Buffer) => boolean) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    .transform((value) => value.replace(/=+$/, ''))
    .refine((value) => {
      const decoded = Buffer.from(value, 'base64url');
      return decoded.length === bytes && (extra?.(decoded) ?? true);
    }, `must decode to ${bytes} bytes`);

/** RFC 8291 §3.1: the user agent's key is an uncompressed point on P-256. */
const onP256 = (point: Buffer): boolean => {
  try {
    ECDH.convertKey(point, 'prime256v1');
    return point[0] === 0x04;
  } catch {
    return false;
  }
};

export const pushSubscriptionSchema = z.object({
  endpoint: endpointField,
  expirationTime: z.number().int().nonnegative().nullable().default(null),
  keys: z.object({ p256dh: keyField(65, onP256), auth: keyField(16) }),
});

/** A browser PushSubscription JSON, checked; 400 `BAD_SUBSCRIPTION` names the field. */
export function parsePushSubscription(value: unknown): PushSubscriptionJson {
  const parsed = pushSubscriptionSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(body)';
  throw new BacklineError('BAD_SUBSCRIPTION', `${field}: ${issue.message}`);
}

export const subscriptionId = (endpoint: string): string =>
  createHash('sha256').update(endpoint).digest('base64url');

/**
 * Each user's web push subscriptions, in the StateStore under
 * `push/<project>/<user>/<id>`. An endpoint belongs to one browser profile, so it belongs
 * to one user at a time: subscribing it for another user (a shared device after a logout)
 * moves it, and the previous user's notifications stop reaching that browser. The endpoint
 * and the keys are sealed when an encryption key is set.
 *
 * @example
 * const subscriptions = createPushSubscriptions(state);
 * const { id } = await subscriptions.add('dev', 'u42', parsePushSubscription(body));
 * await subscriptions.list('dev', 'u42'); // [{ id, endpoint, keys, expirationTime, updatedAt }]
 */
export function createPushSubscriptions(
  state: StateStore,
  options: Partial<typeof defaultPushSubscriptionOptions> = {},
  now: () => number = Date.now,
  sealer: Sealer = plainSealer,
) {
  const opts = { ...defaultPushSubscriptionOptions, ...options };
  const records = createSealedRecords<StoredPushSubscription>(state, sealer, ['endpoint', 'keys']);
  const userPrefix = (project: string, userId: string) => `push/${project}/${part(userId)}/`;
  const ownerKey = (project: string, id: string) => `push-owner/${project}/${id}`;

  async function list(project: string, userId: string): Promise<StoredPushSubscription[]> {
    const rows = await records.list(userPrefix(project, userId));
    return rows.map(([, subscription]) => subscription);
  }

  async function remove(project: string, userId: string, endpoint: string): Promise<boolean> {
    const id = subscriptionId(endpoint);
    let existed = false;
    await state.update(`${userPrefix(project, userId)}${id}`, (stored) => {
      existed = stored !== undefined;
      return undefined;
    });
    // Only this user's claim goes: another user may have taken the endpoint meanwhile.
    await state.update<string>(ownerKey(project, id), (owner) =>
      owner === userId ? undefined : owner,
    );
    return existed;
  }

  return {
    list,
    remove,

    /** Adds or refreshes a subscription (browsers re-send theirs on every page load). */
    async add(
      project: string,
      userId: string,
      subscription: PushSubscriptionJson,
    ): Promise<StoredPushSubscription> {
      const id = subscriptionId(subscription.endpoint);
      const others = (await list(project, userId))
        .filter((s) => s.id !== id)
        .sort((a, b) => a.updatedAt - b.updatedAt);
      for (const oldest of others.slice(0, Math.max(0, others.length - opts.maxPerUser + 1)))
        await remove(project, userId, oldest.endpoint);
      const stored: StoredPushSubscription = {
        id,
        endpoint: subscription.endpoint,
        expirationTime: subscription.expirationTime,
        keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth },
        updatedAt: now(),
      };
      // Entry first, then an atomic swap of the owner: of users adding one endpoint at once
      // (on several nodes), each removes the entry of the owner it replaced, so only the
      // last owner keeps one.
      await records.put(`${userPrefix(project, userId)}${id}`, stored);
      let previousOwner: string | undefined;
      await state.update<string>(ownerKey(project, id), (owner) => {
        previousOwner = owner;
        return userId;
      });
      if (previousOwner !== undefined && previousOwner !== userId)
        await state.del(`${userPrefix(project, previousOwner)}${id}`);
      return stored;
    },

    async has(project: string, userId: string): Promise<boolean> {
      return (await state.list(userPrefix(project, userId), { limit: 1 })).length > 0;
    },
  };
}

export type PushSubscriptions = ReturnType<typeof createPushSubscriptions>;
