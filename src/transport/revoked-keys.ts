import type { WebSocket } from 'uWebSockets.js';
import type { Principal } from '../auth/key-registry.js';
import { closeCodes } from '../errors.js';
import type { SocketState, SocketWriter } from './socket-writer.js';
import type { StreamViewer } from './stream-access.js';

/** The project key a socket was opened with, if any (ingest: `principal`; live: a key viewer). */
function keyOf(state: SocketState): { projectId: string; keyId: string } | undefined {
  const { principal, viewer } = state as SocketState & {
    principal?: Principal;
    viewer?: StreamViewer;
  };
  if (principal) return principal;
  if (viewer?.caller.limit === 'key')
    return { projectId: viewer.projectId, keyId: viewer.caller.id };
  return undefined;
}

/**
 * A revoked key's open sockets are closed with 1008 and the reason `key revoked`, counted as
 * `backline_transport_closed_by_server_total{reason="key_revoked"}`: a revocation ends what
 * the key is doing, not only what it would do next.
 *
 * @example
 * keys.onRevoked(closeRevokedSockets(sockets, writer));
 */
export const closeRevokedSockets =
  (sockets: ReadonlySet<WebSocket<SocketState>>, writer: Pick<SocketWriter, 'close'>) =>
  (projectId: string, keyId: string): void => {
    for (const ws of sockets) {
      const state = ws.getUserData();
      const key = keyOf(state);
      if (state.closed || key?.projectId !== projectId || key.keyId !== keyId) continue;
      writer.close(ws, closeCodes.policyViolation, 'key revoked', 'key_revoked');
    }
  };
