import { createECDH } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';

/** The application server's identity toward push services (RFC 8292). */
export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: the browser's `applicationServerKey`. */
  publicKey: string;
  /** 32-byte P-256 scalar, base64url. */
  privateKey: string;
  /** A `mailto:` or `https:` contact the push service may use to reach the operator. */
  subject: string;
}

export const defaultVapidSubject = 'mailto:ops@backline.invalid';

/**
 * The VAPID keys: the configured pair, else a pair generated on first start and kept in
 * `<dataDir>/vapid.json` (mode 0600). The keys must outlive restarts: every browser
 * subscription is bound to the public key it was made with, and a push signed with another
 * key is refused (403) until the user subscribes again. Every node of a cluster must be
 * configured with the same pair.
 *
 * @example
 * const vapid = loadVapidKeys('./data', { subject: 'mailto:ops@example.com' });
 * // GET /v1/push/vapid-public-key answers { publicKey: vapid.publicKey }
 */
export function loadVapidKeys(
  dataDir: string,
  configured: { publicKey?: string; privateKey?: string; subject?: string } = {},
): VapidKeys {
  const subject = configured.subject ?? defaultVapidSubject;
  checkSubject(subject);
  if (configured.publicKey !== undefined || configured.privateKey !== undefined) {
    if (configured.publicKey === undefined || configured.privateKey === undefined)
      throw new Error('VAPID keys: configure both publicKey and privateKey, or neither');
    return checkPair(
      { publicKey: configured.publicKey, privateKey: configured.privateKey },
      subject,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'vapid.json');
  const generated = webpush.generateVAPIDKeys();
  try {
    // `wx`: two processes starting on one folder cannot both write a pair.
    writeFileSync(file, `${JSON.stringify(generated)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let stored: { publicKey?: unknown; privateKey?: unknown };
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof stored.publicKey !== 'string' || typeof stored.privateKey !== 'string')
    throw new Error(`${file} lacks publicKey and privateKey`);
  return checkPair({ publicKey: stored.publicKey, privateKey: stored.privateKey }, subject);
}

/** A pair whose halves do not match would have every push refused with 403, silently. */
function checkPair(keys: { publicKey: string; privateKey: string }, subject: string): VapidKeys {
  const base64url = /^[A-Za-z0-9_-]+$/;
  const publicKey = Buffer.from(keys.publicKey, 'base64url');
  const privateKey = Buffer.from(keys.privateKey, 'base64url');
  if (!base64url.test(keys.publicKey) || publicKey.length !== 65)
    throw new Error('VAPID publicKey must be 65 bytes in base64url without padding');
  if (!base64url.test(keys.privateKey) || privateKey.length !== 32)
    throw new Error('VAPID privateKey must be 32 bytes in base64url without padding');
  if (!publicHalf(privateKey)?.equals(publicKey))
    throw new Error('VAPID publicKey is not the public half of privateKey');
  return { publicKey: keys.publicKey, privateKey: keys.privateKey, subject };
}

function publicHalf(privateKey: Buffer): Buffer | undefined {
  try {
    const curve = createECDH('prime256v1');
    curve.setPrivateKey(privateKey);
    return curve.getPublicKey();
  } catch {
    return undefined; // not a valid P-256 scalar
  }
}

function checkSubject(subject: string): void {
  let protocol: string;
  try {
    protocol = new URL(subject).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'mailto:' && protocol !== 'https:')
    throw new Error(
      `VAPID subject must be a mailto: or https: URL, not ${JSON.stringify(subject)}`,
    );
}
