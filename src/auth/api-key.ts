import { createHash, randomBytes } from 'node:crypto';

/**
 * An API key's hash, as kept in memory and in the StateStore: SHA-256, base64url. A fast hash
 * is right for keys backline makes: they are 32 random bytes, so no guess list exists to try
 * against a stolen hash, and 2^256 preimages are out of reach however fast each try is. A slow
 * hash (bcrypt, scrypt) would only cost every authenticated request its time; a pepper would
 * protect guessable secrets, which these are not. (Configured keys are hashed the same way in
 * memory; the file they come from holds them in clear anyway.)
 */
export const hashKey = (key: string): string =>
  createHash('sha256').update(key).digest('base64url');

/** A configured key's id: stable across restarts and nodes (a shared rate limit finds it), not secret. */
export const keyIdOf = (key: string): string => hashKey(key).slice(0, 16);

/** Prefix of the keys backline makes, so a leaked one is recognisable (secret scanners). */
export const apiKeyPrefix = 'bl_';

/** A new API key: the prefix and 32 random bytes, base64url (46 characters). */
export const generateApiKey = (): string =>
  `${apiKeyPrefix}${randomBytes(32).toString('base64url')}`;

/** A new key's id: 72 random bits, base64url; it names the key in the API and in logs. */
export const generateKeyId = (): string => randomBytes(9).toString('base64url');

/** The form of every key id, configured or made: anything else names no key. */
export const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
