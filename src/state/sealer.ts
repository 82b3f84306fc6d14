import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import { BacklineError } from '../errors.js';

/** One AES-256 key of the ring and the id that sealed records name it by. */
export interface SealingKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

/**
 * A value sealed with AES-256-GCM, as it sits in the StateStore. `box` is base64 of
 * IV (12 bytes) ‖ tag (16 bytes) ‖ ciphertext of the value as MessagePack. A plain map of
 * strings, so LMDB, Redis and the memory store keep it alike.
 */
export interface Sealed {
  $sealed: 1;
  /** The id of the key that sealed it. */
  kid: string;
  box: string;
}

/** Why a sealed value could not be opened: the `reason` label of the failure count. */
export type UnsealReason = 'no_key' | 'unknown_key' | 'bad_tag' | 'malformed';

/** What the sealer reports, to the metrics. */
export interface SealerEvents {
  unsealFailed?(reason: UnsealReason): void;
  resealed?(): void;
}

/**
 * Seals personal values with the first key of the ring and opens them with whichever key
 * sealed them. Without keys it stores values as they are, and a plain value is always read
 * as it is, so data written before a key was set stays readable.
 */
export interface Sealer {
  /** The id new values are sealed with; undefined when no key is set. */
  readonly currentKeyId: string | undefined;
  /**
   * `value` sealed for `context` (where it is kept: a value moved elsewhere does not open);
   * as it is without a key, and `undefined` stays `undefined`.
   */
  seal<T>(value: T, context: string): T | Sealed;
  /**
   * The value, from its sealed or plain form. Throws SEALED_UNREADABLE, counted by reason,
   * when no key of the ring opens it.
   */
  open<T>(stored: T | Sealed, context: string): T;
  /** True when writing `stored` again would change it: plain while a key is set, or an older key's. */
  stale(stored: unknown): boolean;
  /** Lazy rotations done (counted by the stores that re-seal on read). */
  resealed(): void;
}

const ivBytes = 12;
const tagBytes = 16;
// Plain maps, so a value opens to what was sealed whatever the reader's settings.
const packr = new Packr({ useRecords: false });

export function isSealed(value: unknown): value is Sealed {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Sealed).$sealed === 1 &&
    typeof (value as Sealed).kid === 'string' &&
    typeof (value as Sealed).box === 'string'
  );
}

/** Binds the ciphertext to its key id and its place: a swapped id or a moved record fails. */
const aad = (kid: string, context: string) => Buffer.from(`backline-seal-v1\0${kid}\0${context}`);

/**
 * The sealer over a key ring (`parseKeyRing`): the first key seals, every key opens.
 *
 * @example
 * const sealer = createSealer(parseKeyRing({ key: process.env.BACKLINE_ENCRYPTION_KEY }));
 * const stored = sealer.seal('fan@example.com', 'pref/dev/u1#email'); // { $sealed: 1, kid, box }
 * sealer.open(stored, 'pref/dev/u1#email'); // 'fan@example.com'
 */
export function createSealer(keys: readonly SealingKey[], events: SealerEvents = {}): Sealer {
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const current = keys[0];

  const fail = (reason: UnsealReason, detail: string, cause?: unknown): never => {
    events.unsealFailed?.(reason);
    throw new BacklineError('SEALED_UNREADABLE', detail, { cause });
  };

  function unseal<T>(sealed: Sealed, context: string): T {
    if (!current)
      return fail(
        'no_key',
        `${context} is sealed with key ${sealed.kid}; no encryption key is set`,
      );
    const key = byId.get(sealed.kid);
    if (!key)
      return fail(
        'unknown_key',
        `${context} is sealed with key ${sealed.kid}, not in the key ring`,
      );
    const bytes = Buffer.from(sealed.box, 'base64');
    if (bytes.length < ivBytes + tagBytes)
      return fail('malformed', `${context}: sealed box too short`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, ivBytes));
      decipher.setAAD(aad(sealed.kid, context));
      decipher.setAuthTag(bytes.subarray(ivBytes, ivBytes + tagBytes));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(ivBytes + tagBytes)),
        decipher.final(),
      ]);
      return packr.unpack(plain) as T;
    } catch (err) {
      return fail(
        'bad_tag',
        `${context} does not open with key ${sealed.kid}: another key under that id, or altered`,
        err,
      );
    }
  }

  return {
    currentKeyId: current?.id,
    seal<T>(value: T, context: string): T | Sealed {
      if (!current || value === undefined) return value;
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(aad(current.id, context));
      const body = Buffer.concat([cipher.update(packr.pack(value)), cipher.final()]);
      const box = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
      return { $sealed: 1, kid: current.id, box };
    },
    open<T>(stored: T | Sealed, context: string): T {
      return isSealed(stored) ? unseal<T>(stored, context) : stored;
    },
    stale(stored: unknown): boolean {
      if (stored === undefined || !current) return false;
      return !isSealed(stored) || stored.kid !== current.id;
    },
    resealed() {
      events.resealed?.();
    },
  };
}

/** Values as they are: for tests and stores built without a key ring. */
export const plainSealer: Sealer = createSealer([]);
