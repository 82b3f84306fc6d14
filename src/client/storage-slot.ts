/**
 * A storage key for the given parts (server, project key, user) that does not write the
 * project key or the user into storage: a short stable hash (FNV-1a, 32 bits) of them.
 *
 * @example
 * storageSlot('backline:queue', 'http://127.0.0.1:8080', key); // 'backline:queue:1c9d…'
 */
export function storageSlot(prefix: string, ...parts: string[]): string {
  const text = parts.join('|');
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return `${prefix}:${(hash >>> 0).toString(16).padStart(8, '0')}`;
}
