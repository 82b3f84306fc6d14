import { z } from 'zod';
import { scopeSchema, type Scope } from '../config/schema.js';
import { part } from '../state/state-store.js';

/** A key made through `POST /v1/keys`, as the StateStore keeps it: its hash, never the key. */
export interface ApiKeyRecord {
  kind: 'api';
  project: string;
  id: string;
  name: string;
  scopes: Scope[];
  /** `hashKey(key)`: what `authenticate` looks the presented key up by. */
  hash: string;
  createdAt: number;
  /** Epoch ms from which the key is refused; null: it does not expire. */
  expiresAt: number | null;
}

/** A configured key revoked through `DELETE /v1/keys/:id`: refused until the key leaves the configuration. */
export interface RevokedKeyRecord {
  kind: 'revoked';
  project: string;
  id: string;
  revokedAt: number;
}

export type KeyRecord = ApiKeyRecord | RevokedKeyRecord;

/** What `GET /v1/keys` shows of a key: everything but the secret and its hash. */
export interface ListedKey {
  id: string;
  name: string | null;
  scopes: Scope[];
  /** `config`: from the configuration file or BACKLINE_DEV_KEY; `api`: made through the API. */
  source: 'config' | 'api';
  createdAt: number | null;
  expiresAt: number | null;
}

/** Where a project's key records live in the StateStore (Redis in cluster mode: every node reads them). */
export const keysPrefix = (project: string): string => `keys/${part(project)}/`;
export const keyRecordKey = (project: string, id: string): string =>
  `${keysPrefix(project)}${part(id)}`;

/** Scopes listed once each, in the order given. */
const scopesSchema = z
  .array(scopeSchema)
  .min(1)
  .refine((scopes) => new Set(scopes).size === scopes.length, 'each scope once');

/**
 * The body of `POST /v1/keys`. Unknown fields are refused: a misspelt `expiresAt` must not
 * make a key that never expires.
 */
export const newKeySchema = z.strictObject({
  name: z.string().min(1).max(64),
  scopes: scopesSchema,
  /** Epoch ms, in the future. */
  expiresAt: z.number().int().positive().optional(),
});

export type NewKey = z.infer<typeof newKeySchema>;

export const listed = (record: ApiKeyRecord): ListedKey => ({
  id: record.id,
  name: record.name,
  scopes: record.scopes,
  source: 'api',
  createdAt: record.createdAt,
  expiresAt: record.expiresAt,
});

/** A record read back from the StateStore, or undefined for anything that is not one. */
export function asKeyRecord(value: unknown): KeyRecord | undefined {
  const record = value as Partial<KeyRecord> | undefined;
  if (record?.kind === 'api' && typeof record.hash === 'string') return record as ApiKeyRecord;
  if (record?.kind === 'revoked') return record as RevokedKeyRecord;
  return undefined;
}
