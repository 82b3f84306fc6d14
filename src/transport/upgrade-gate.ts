import type { HttpRequest, HttpResponse, WebSocket } from 'uWebSockets.js';
import type { Limits } from '../config/schema.js';
import { BacklineError } from '../errors.js';
import { createTokenBucket, type TokenBucket } from '../lib/token-bucket.js';
import type { Cors } from './cors.js';

export const defaultUpgradeGateOptions = {
  sweepIntervalMs: 60_000, // how often upgrade buckets that refilled are dropped
};

/**
 * What every socket upgrade passes before its credentials are read: the client address's
 * upgrade rate and open sockets, and the page's Origin. Refusals are BacklineErrors, answered
 * and counted as any refused upgrade (`backline_transport_upgrades_refused_total{code}`).
 */
export interface UpgradeGate {
  /**
   * Throws TOO_MANY_UPGRADES (with retryAfterMs), ORIGIN_NOT_ALLOWED or TOO_MANY_CONNECTIONS.
   * Reads `req` and `res` synchronously, as uWS requires.
   */
  admit(req: HttpRequest, res: HttpResponse): void;
  /** A socket opened: it counts against its address until `closed`. */
  opened(ws: WebSocket<unknown>): void;
  closed(ws: WebSocket<unknown>): void;
  /** Open sockets of an address (for tests and the sweep). */
  openFrom(address: string): number;
}

const text = (address: ArrayBuffer) => Buffer.from(address).toString();

/**
 * The gate of `limits.upgradesPerIpPerSecond` (a token bucket per address, as many upgrades
 * at once as its rate), `limits.connectionsPerIp` (open sockets per address, all endpoints
 * together; 0 turns either off) and `cors.origins`. The address is uWS's remote address:
 * behind a proxy, the proxy's. Upgrades in flight are not open sockets yet: the upgrade rate
 * bounds how far a burst may pass the connection limit.
 *
 * @example
 * const gate = createUpgradeGate({ cors, limits: config.limits });
 * gate.admit(req, res); // throws TOO_MANY_CONNECTIONS past limits.connectionsPerIp
 */
export function createUpgradeGate(
  deps: { cors: Cors; limits: Pick<Limits, 'connectionsPerIp' | 'upgradesPerIpPerSecond'> },
  options: Partial<typeof defaultUpgradeGateOptions> = {},
  now = () => performance.now(),
): UpgradeGate {
  const { cors } = deps;
  const { connectionsPerIp, upgradesPerIpPerSecond: rate } = deps.limits;
  const { sweepIntervalMs } = { ...defaultUpgradeGateOptions, ...options };
  const open = new Map<string, number>();
  const addressOf = new WeakMap<object, string>();
  // Bounded by the addresses active within a sweep interval: a full bucket is a new one.
  const buckets = new Map<string, TokenBucket>();
  let lastSweep = now();

  function takeUpgrade(address: string): void {
    if (rate <= 0) return;
    if (now() - lastSweep >= sweepIntervalMs) {
      lastSweep = now();
      for (const [key, bucket] of buckets) if (bucket.full()) buckets.delete(key);
    }
    let bucket = buckets.get(address);
    if (!bucket)
      buckets.set(address, (bucket = createTokenBucket(rate, Math.max(1, Math.ceil(rate)), now)));
    const retryAfterMs = bucket.take(1);
    if (retryAfterMs > 0) throw new BacklineError('TOO_MANY_UPGRADES', undefined, { retryAfterMs });
  }

  return {
    admit(req, res) {
      const address = text(res.getRemoteAddressAsText());
      takeUpgrade(address);
      const origin = req.getHeader('origin');
      if (!cors.allows(origin, req.getHeader('host')))
        throw new BacklineError('ORIGIN_NOT_ALLOWED', `origin ${origin} is not allowed`);
      if (connectionsPerIp > 0 && (open.get(address) ?? 0) >= connectionsPerIp)
        throw new BacklineError('TOO_MANY_CONNECTIONS', `${connectionsPerIp} sockets are open`);
    },
    opened(ws) {
      const address = text(ws.getRemoteAddressAsText());
      addressOf.set(ws, address);
      open.set(address, (open.get(address) ?? 0) + 1);
    },
    closed(ws) {
      const address = addressOf.get(ws);
      if (address === undefined) return;
      addressOf.delete(ws);
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    },
    openFrom: (address) => open.get(address) ?? 0,
  };
}
