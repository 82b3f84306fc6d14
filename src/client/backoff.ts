import { backoffMs } from '../lib/backoff.js';

/** Reconnect delays. Units are milliseconds. */
export interface BackoffOptions {
  /** Delay before the first retry, doubled after each failure. */
  baseMs: number;
  /** Cap of the exponential growth: retries never wait longer than this. */
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 250, maxMs: 10_000 };

/**
 * Delay before the next attempt after `failures` failed attempts in a row over a list of
 * `servers`. Within a round of the list the next server is tried after a short random step
 * (below `baseMs / 2`, under any round's backoff), so a dead node costs one attempt and its
 * clients do not all reach the next node in the same instant; after each full round the
 * capped exponential backoff of that round's number. With one server every attempt ends a
 * round: exactly `backoffMs(failures)` (src/lib/backoff.ts).
 *
 * @example
 * retryDelayMs(1, 3, defaultBackoff); // 0–125: the second server of the round
 * retryDelayMs(3, 3, defaultBackoff); // 125–250: every server failed once
 * retryDelayMs(6, 3, defaultBackoff); // 250–500
 */
export function retryDelayMs(
  failures: number,
  servers: number,
  options: BackoffOptions,
  random = Math.random,
): number {
  if (failures % servers !== 0) return Math.floor((random() * options.baseMs) / 2);
  return backoffMs(failures / servers, options.baseMs, options.maxMs, random);
}
