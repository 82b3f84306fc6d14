/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so retries from many callers spread out
 * without ever retrying at once: a server restart does not see every client at once. The
 * one backoff of the server and of the client library.
 *
 * @example
 * backoffMs(3, 200, 30_000); // between 400 and 800
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
