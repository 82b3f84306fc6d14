import type { WebSocket } from 'uWebSockets.js';
import type { Authenticator } from '../../auth/key-registry.js';
import type { Bus } from '../../cluster/bus.js';
import type { BacklineError } from '../../errors.js';
import type { WindowResult } from '../../model/window-result.js';
import type { StreamAccess } from '../../pipeline/stream-spec.js';
import type { LiveHub, LiveSocketState } from './live-hub.js';
import type { SocketDeps } from '../define-socket.js';
import type { UserCheck } from '../identity.js';

/** What live subscriptions need of the pipeline, without knowing it. */
export interface StreamCatalog {
  /** The stream's definition as far as access goes; undefined when there is none. */
  get(project: string, stream: string): { access: StreamAccess } | undefined;
  /** The `last` most recent windows (all keys, or one), open ones included, oldest first. */
  snapshot(project: string, stream: string, last: number, key?: string): WindowResult[];
}

export interface LiveSocketDeps extends SocketDeps {
  hub: LiveHub;
  catalog: StreamCatalog;
  auth: Authenticator;
  /** Users of a project (backline user tokens, JWTs) read its `users` and `public` streams. */
  users: UserCheck;
  /** Stream definitions change here: subscriptions a new `access` shuts out are ended. */
  bus: Bus;
}

export type LiveSocketContext = LiveSocketDeps & {
  /**
   * Ends subscription `id` with `{t:"error", code, msg, id}`: the server's doing (a stream's
   * new access), not a frame of the client's, so it never counts toward closing the socket.
   */
  endSubscription(ws: WebSocket<LiveSocketState>, err: BacklineError, id: string | number): void;
};

export const maxSubscriptionsPerSocket = 100;
export const defaultSnapshotWindows = 10;
export const maxSnapshotWindows = 1000;
