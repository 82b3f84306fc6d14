import type { SealingKey } from './sealer.js';

/** The id `BACKLINE_ENCRYPTION_KEY` seals with; name the old key so in a ring to rotate. */
export const singleKeyId = 'default';

export interface EncryptionSettings {
  /** base64 of 32 bytes (`BACKLINE_ENCRYPTION_KEY`). */
  key?: string | undefined;
  /** `id:base64` each (`BACKLINE_ENCRYPTION_KEYS`): the first seals, all open. */
  keys?: readonly string[] | undefined;
}

/**
 * The key ring of the encryption settings (checked by the config schema): the ring of
 * `keys`, or `key` alone under the id `default`, or none.
 *
 * @example
 * parseKeyRing({ keys: ['k2:…', 'default:…'] }); // [{ id: 'k2', key }, { id: 'default', key }]
 */
export function parseKeyRing(settings: EncryptionSettings): SealingKey[] {
  if (settings.keys?.length) return settings.keys.map(parseEntry);
  return settings.key ? [{ id: singleKeyId, key: keyBytes(settings.key, singleKeyId) }] : [];
}

function parseEntry(entry: string): SealingKey {
  const colon = entry.indexOf(':');
  if (colon <= 0) throw new Error('an encryption key ring entry is `id:base64`');
  const id = entry.slice(0, colon);
  return { id, key: keyBytes(entry.slice(colon + 1), id) };
}

/** Never echoes the key: messages and logs name the id only. */
function keyBytes(base64: string, id: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error(`encryption key ${id} is not base64 of 32 bytes`);
  return key;
}
