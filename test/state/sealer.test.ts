import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BacklineError } from '../../src/errors.js';
import { parseKeyRing } from '../../src/state/key-ring.js';
import { createSealer, isSealed, type Sealed, type UnsealReason } from '../../src/state/sealer.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

/** A sealer whose failures are kept, as the metrics count them. */
function counted(keys: Array<{ id: string; key: Buffer }>) {
  const failures: UnsealReason[] = [];
  const sealer = createSealer(keys, { unsealFailed: (reason) => failures.push(reason) });
  return { sealer, failures };
}

/** The error `open` threw, with the reason counted for it. */
function refusal(keys: Array<{ id: string; key: Buffer }>, stored: unknown, context: string) {
  const { sealer, failures } = counted(keys);
  try {
    sealer.open(stored, context);
  } catch (err) {
    return { code: (err as BacklineError).code, message: (err as Error).message, failures };
  }
  throw new Error('opened');
}

describe('sealer', () => {
  it('seals with AES-256-GCM under the first key of the ring, and opens what it sealed', () => {
    const sealer = createSealer([k1, k2]);
    const value = { endpoint: 'https://push.example/abc', n: 3, list: [1, 'x'] };
    const stored = sealer.seal(value, 'push/dev/u1/a#keys');
    expect(isSealed(stored)).toBe(true);
    expect(stored).toMatchObject({ $sealed: 1, kid: 'k1' });
    expect(JSON.stringify(stored)).not.toContain('push.example');
    expect(sealer.open(stored, 'push/dev/u1/a#keys')).toEqual(value);
    // A fresh IV each time: the same value sealed twice differs.
    expect(sealer.seal(value, 'c')).not.toEqual(sealer.seal(value, 'c'));
  });

  it('opens with any key of the ring: an older key’s records stay readable after rotation', () => {
    const old = createSealer([k1]).seal('fan@example.com', 'pref/dev/u1#email');
    const rotated = createSealer([k2, k1]);
    expect(rotated.open(old, 'pref/dev/u1#email')).toBe('fan@example.com');
    expect(rotated.stale(old)).toBe(true);
    expect(rotated.stale(rotated.seal('x', 'c'))).toBe(false);
  });

  it('stores values as they are without a key, and reads plain values whatever the keys', () => {
    const plain = createSealer([]);
    expect(plain.currentKeyId).toBeUndefined();
    expect(plain.seal('fan@example.com', 'c')).toBe('fan@example.com');
    expect(plain.stale('fan@example.com')).toBe(false);
    const keyed = createSealer([k1]);
    expect(keyed.open('fan@example.com', 'c')).toBe('fan@example.com');
    expect(keyed.stale('fan@example.com')).toBe(true);
    expect(keyed.seal(undefined, 'c')).toBeUndefined();
    expect(keyed.stale(undefined)).toBe(false);
  });

  it('refuses a sealed value it cannot open with SEALED_UNREADABLE, counted by reason', () => {
    const stored = createSealer([k1]).seal('fan@example.com', 'pref/dev/u1#email');
    expect(refusal([], stored, 'pref/dev/u1#email')).toMatchObject({
      code: 'SEALED_UNREADABLE',
      failures: ['no_key'],
    });
    const unknown = refusal([k2], stored, 'pref/dev/u1#email');
    expect(unknown).toMatchObject({ code: 'SEALED_UNREADABLE', failures: ['unknown_key'] });
    expect(unknown.message).toContain('k1');
    // Another key under the same id: GCM's tag does not match.
    const wrong = { id: 'k1', key: randomBytes(32) };
    expect(refusal([wrong], stored, 'pref/dev/u1#email').failures).toEqual(['bad_tag']);
    // The messages name the place and the key id, never the key.
    expect(unknown.message).not.toContain(k1.key.toString('base64'));
  });

  it('binds a sealed value to its place: moved to another user’s record, it does not open', () => {
    const stored = createSealer([k1]).seal('fan@example.com', 'pref/dev/u1#email') as Sealed;
    expect(refusal([k1], stored, 'pref/dev/u2#email').failures).toEqual(['bad_tag']);
    expect(refusal([k1], { ...stored, kid: 'k2' }, 'pref/dev/u1#email').failures).toEqual([
      'unknown_key',
    ]);
  });

  it('refuses an altered or truncated box', () => {
    const stored = createSealer([k1]).seal('fan@example.com', 'c') as { box: string };
    const bytes = Buffer.from(stored.box, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    const altered = { ...stored, box: bytes.toString('base64') };
    expect(refusal([k1], altered, 'c').failures).toEqual(['bad_tag']);
    expect(refusal([k1], { ...stored, box: 'AAAA' }, 'c').failures).toEqual(['malformed']);
  });
});

describe('parseKeyRing', () => {
  const b64 = (key: Buffer) => key.toString('base64');

  it('reads one key under the id `default`, or a ring of id:base64 whose first key seals', () => {
    expect(parseKeyRing({})).toEqual([]);
    expect(parseKeyRing({ key: b64(k1.key) })).toEqual([{ id: 'default', key: k1.key }]);
    expect(parseKeyRing({ keys: [`k2:${b64(k2.key)}`, `k1:${b64(k1.key)}`] })).toEqual([k2, k1]);
  });

  it('refuses a key that is not 32 bytes without repeating it', () => {
    const short = b64(randomBytes(16));
    expect(() => parseKeyRing({ keys: [`k1:${short}`] })).toThrow(/k1 is not base64 of 32 bytes/);
    expect(() => parseKeyRing({ keys: [`k1:${short}`] })).not.toThrow(short);
  });
});
