import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

export type Uws = typeof UWS;

export class UwsFallbackError extends Error {
  constructor() {
    super(
      'uWebSockets.js did not load its native binary and fell back to its slow `ws` shim; ' +
        'refusing to start. Set BACKLINE_ALLOW_WS_FALLBACK=1 to run on the shim anyway.',
    );
    this.name = 'UwsFallbackError';
  }
}

/**
 * Loads uWebSockets.js. The unofficial package backline depends on silently swaps in a
 * `ws`-based shim when its native binary does not load (wrong Node ABI, libc); the native
 * module is the one that exports `SSLApp`, so its absence gives the shim away.
 */
export function loadUws(allowFallback: boolean): { uws: Uws; native: boolean } {
  const require = createRequire(import.meta.url);
  const uws = require('uWebSockets.js') as Uws;
  const native = typeof (uws as Partial<Uws>).SSLApp === 'function';
  if (!native && !allowFallback) throw new UwsFallbackError();
  return { uws, native };
}
