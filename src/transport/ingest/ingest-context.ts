import type { WebSocket } from 'uWebSockets.js';
import type { Authenticator, Principal } from '../../auth/key-registry.js';
import type { Limits } from '../../config/schema.js';
import type { Ingest } from '../../ingest/ingest-service.js';
import type { TokenBucket } from '../../lib/token-bucket.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { RateLimiters } from '../rate-limits.js';
import type { SocketState, SocketWriter } from '../socket-writer.js';

export interface IngestSocketState extends SocketState {
  principal: Principal;
  /** This connection's events; the key's budget, shared by its sockets, is in `rateLimits`. */
  bucket: TokenBucket;
  badFrames: number;
}

export interface IngestSocketDeps {
  ingest: Ingest;
  auth: Authenticator;
  limits: Limits;
  metrics: Metrics;
  writer: SocketWriter;
  log: Logger;
  rateLimits: RateLimiters;
}

export type IngestSocketContext = IngestSocketDeps & {
  sendError(ws: WebSocket<IngestSocketState>, err: unknown, seq?: number): void;
};
