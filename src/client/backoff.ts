/** Reconnect delays. Units are milliseconds. */
export interface BackoffOptions {
  /** Delay before the first retry, doubled after each failure. */
  baseMs: number;
  /** Cap of the exponential growth: retries never wait longer than this. */
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 250, maxMs: 10_000 };

/**
 * Delay before retry number `attempt` (1-based): exponential, capped, with "equal jitter"
 * (half fixed, half random) so that a server restart does not see every client at once.
 * The client keeps its own copy of the server's rule so that it imports nothing from `src/`.
 *
 * @example
 * backoffMs(3, { baseMs: 250, maxMs: 10_000 }); // between 500 and 1000
 */
export function backoffMs(attempt: number, options: BackoffOptions, random = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
