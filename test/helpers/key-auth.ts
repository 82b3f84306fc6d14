import type { Authenticator, Principal } from '../../src/auth/key-registry.js';

/** Keys by name (the key is its name): project `shop` with each scope, and another project. */
export const principals: Record<string, Principal> = {
  admin: { projectId: 'shop', keyId: 'admin', scopes: new Set(['admin', 'read']) },
  reader: { projectId: 'shop', keyId: 'reader', scopes: new Set(['read']) },
  ingest: { projectId: 'shop', keyId: 'ingest', scopes: new Set(['ingest']) },
  other: { projectId: 'other', keyId: 'other', scopes: new Set(['admin', 'read']) },
};

/** Authenticates the keys of `principals`. */
export const auth: Authenticator = { authenticate: (key) => (key ? principals[key] : undefined) };
