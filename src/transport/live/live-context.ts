import type { WebSocket } from 'uWebSockets.js';
import type { Authenticator } from '../../auth/key-registry.js';
import type { WindowResult } from '../../model/window-result.js';
import type { LiveHub, LiveSocketState } from './live-hub.js';
import type { SocketDeps } from '../define-socket.js';

/** What live subscriptions need of the pipeline, without knowing it. */
export interface StreamCatalog {
  has(project: string, stream: string): boolean;
  /** The `last` most recent windows (all keys, or one), open ones included, oldest first. */
  snapshot(project: string, stream: string, last: number, key?: string): WindowResult[];
}

export interface LiveSocketDeps extends SocketDeps {
  hub: LiveHub;
  catalog: StreamCatalog;
  auth: Authenticator;
}

export type LiveSocketContext = LiveSocketDeps & {
  sendError(ws: WebSocket<LiveSocketState>, err: unknown, id?: unknown): void;
};

export const maxSubscriptionsPerSocket = 100;
export const defaultSnapshotWindows = 10;
export const maxSnapshotWindows = 1000;
