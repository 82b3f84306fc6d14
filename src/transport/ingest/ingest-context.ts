import type { WebSocket } from 'uWebSockets.js';
import type { Authenticator, Principal } from '../../auth/key-registry.js';
import type { Ingest } from '../../ingest/ingest-service.js';
import type { TokenBucket } from '../../lib/token-bucket.js';
import type { SocketDeps } from '../define-socket.js';
import type { SocketState } from '../socket-writer.js';

export interface IngestSocketState extends SocketState {
  principal: Principal;
  /** This connection's events; the key's budget, shared by its sockets, is in `rateLimits`. */
  bucket: TokenBucket;
  badFrames: number;
}

export interface IngestSocketDeps extends SocketDeps {
  ingest: Ingest;
  auth: Authenticator;
}

export type IngestSocketContext = IngestSocketDeps & {
  sendError(ws: WebSocket<IngestSocketState>, err: unknown, seq?: number): void;
};
