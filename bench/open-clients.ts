import type { OpenCommand } from './fleet-protocol.js';
import { openIdleWsClient } from './idle-ws-client.js';
import type { ClientOptions, IngestClient } from './ingest-client.js';
import { openWsClient } from './ingest-client.js';
import { openSocketIoClient } from './socketio-client.js';

const openers = {
  ws: openWsClient,
  'idle-ws': openIdleWsClient,
  'socket.io': openSocketIoClient,
} as const;

/**
 * Opens a worker's share of sockets with at most `handshakesInFlight` handshakes at once,
 * spread over the fleet's URLs and the worker's source addresses.
 * Every attempt ends (a client's own handshake timeout bounds it); failures are counted by code.
 */
export async function openClients(cmd: OpenCommand) {
  const open = openers[cmd.transport];
  const options = (k: number): ClientOptions => ({
    url: cmd.urls[(cmd.firstIndex + k) % cmd.urls.length]!,
    localAddress: cmd.localAddresses[k % cmd.localAddresses.length]!,
    connectTimeoutMs: cmd.connectTimeoutMs,
  });
  const clients: IngestClient[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  const lane = async () => {
    for (; next < cmd.sockets;) {
      const k = next;
      next += 1;
      try {
        clients.push(await open(options(k)));
      } catch (err) {
        const code = failureCode(err);
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  const lanes = Math.max(1, Math.min(cmd.handshakesInFlight, cmd.sockets));
  await Promise.all(Array.from({ length: lanes }, lane));
  return { clients, errors };
}

function failureCode(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/^HTTP_\d+$/.test(message)) return `CONNECT_${message}`;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `CONNECT_${code}` : 'CONNECT_FAILED';
}
