import type { WebSocket } from 'uWebSockets.js';
import type { Authenticator } from '../../auth/key-registry.js';
import type { Limits } from '../../config/schema.js';
import type { Logger } from '../../ops/logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { WindowResult } from '../../model/window-result.js';
import type { LiveHub, LiveSocketState } from './live-hub.js';
import type { RateLimiters } from '../rate-limits.js';
import type { SocketWriter } from '../socket-writer.js';

/** What live subscriptions need of the pipeline, without knowing it. */
export interface StreamCatalog {
  has(project: string, stream: string): boolean;
  /** The `last` most recent windows (all keys, or one), open ones included, oldest first. */
  snapshot(project: string, stream: string, last: number, key?: string): WindowResult[];
}

export interface LiveSocketDeps {
  hub: LiveHub;
  catalog: StreamCatalog;
  auth: Authenticator;
  limits: Limits;
  metrics: Metrics;
  writer: SocketWriter;
  log: Logger;
  rateLimits: RateLimiters;
}

export type LiveSocketContext = LiveSocketDeps & {
  sendError(ws: WebSocket<LiveSocketState>, err: unknown, id?: unknown): void;
};

export const maxSubscriptionsPerSocket = 100;
export const defaultSnapshotWindows = 10;
export const maxSnapshotWindows = 1000;
