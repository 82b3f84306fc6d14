import { z } from 'zod';

// The security settings: encryption at rest, TLS and the browser origins (README: TLS,
// Browser safety, Encryption at rest).

/** base64 of a 32-byte AES-256 key; the message never repeats the value. */
const isAesKey = (value: string) =>
  /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32;
const aesKeyField = z
  .string()
  .refine(isAesKey, 'must be base64 of 32 bytes (openssl rand -base64 32)');
const keyRingEntry = z
  .string()
  .refine(
    (entry) =>
      /^[A-Za-z0-9_.-]{1,32}:/.test(entry) && isAesKey(entry.slice(entry.indexOf(':') + 1)),
    'entries are `id:base64 of 32 bytes`, ids of [A-Za-z0-9_.-], at most 32',
  );

/** Encryption at rest of personal data in the state store (README, Privacy). */
export const encryptionSchema = z
  .object({
    key: aesKeyField.optional(), // one key, id `default`
    keys: z.array(keyRingEntry).min(1).optional(), // a ring: the first seals, all open
  })
  .refine((e) => !(e.key && e.keys), {
    message: 'set the key or the key ring, not both',
    path: ['keys'],
  })
  .refine((e) => new Set(e.keys?.map((k) => k.split(':')[0])).size === (e.keys?.length ?? 0), {
    message: 'key ids in the ring must differ',
    path: ['keys'],
  });

/** https and wss from a certificate and its key (PEM files), through uWS's SSLApp. */
export const tlsSchema = z
  .object({
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    keyPassphrase: z.string().min(1).optional(), // for an encrypted key file
  })
  .refine((t) => !t.certFile === !t.keyFile, {
    message: 'set both the certificate and the key file, or neither',
    path: ['keyFile'],
  });

/** `https://app.example`, `http://localhost:3000`, `https://*.example.com`, or `*` for any. */
const originPattern = /^(\*|https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?)$/i;

/** Pages on other origins that may call the API and open sockets (README, Browser safety). */
export const corsSchema = z.object({
  origins: z
    .array(z.string().regex(originPattern, 'an origin: scheme://host[:port], *.domain, or *'))
    .default([]),
  maxAgeSeconds: z.number().int().min(0).default(600), // browsers cache a preflight this long
});
