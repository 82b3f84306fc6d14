import type { WebSocket } from 'uWebSockets.js';
import type { Authenticator, Principal } from '../auth/key-registry.js';
import type { Limits } from '../config/schema.js';
import type { Ingest } from '../ingest/ingest-service.js';
import type { TokenBucket } from '../ingest/token-bucket.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { SocketState, SocketWriter } from './socket-writer.js';

export interface IngestSocketState extends SocketState {
  principal: Principal;
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
}

export type IngestSocketContext = IngestSocketDeps & {
  sendError(ws: WebSocket<IngestSocketState>, err: unknown, seq?: number): void;
};
