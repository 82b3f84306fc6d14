import type { WebSocket } from 'uWebSockets.js';
import type { Bus } from '../../cluster/bus.js';
import type { Presence } from '../../cluster/presence.js';
import type { Inbox } from '../../notify/inbox.js';
import type { SocketDeps } from '../define-socket.js';
import type { UserCheck } from '../identity.js';
import type { UserHub, UserSocketState } from './user-hub.js';

export interface UserSocketDeps extends SocketDeps {
  /** Verifies the user's token: backline's own or a JWT of the project's identity provider. */
  users: UserCheck;
  hub: UserHub;
  /** Marks and counts go out to the user's sockets on every node. */
  bus: Bus;
  /** Joined on open and left on close: the user is online while a socket is. */
  presence: Presence;
  inbox: Inbox;
}

export type UserSocketContext = UserSocketDeps & {
  sendError(ws: WebSocket<UserSocketState>, err: unknown): void;
};

/** Notifications one resume sends at most, oldest first; exactly this many means resume again. */
export const maxResumeItems = 500;
