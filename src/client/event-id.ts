/**
 * A random UUID v4 for an event id: the server's de-duplication key, so it must be unique.
 * `crypto.randomUUID` exists only in secure contexts (https, localhost); a page served over
 * plain http from another host gets the same format from `crypto.getRandomValues`.
 *
 * @example
 * eventId(); // '3b241101-e2bb-4255-8caf-4136c566a962'
 */
export function eventId(): string {
  const crypto = globalThis.crypto as Partial<Crypto>;
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues!(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface Crypto {
  randomUUID(): string;
  getRandomValues<T extends Uint8Array>(array: T): T;
}
