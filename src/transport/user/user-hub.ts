import type { WebSocket } from 'uWebSockets.js';
import { createSerialQueue } from '../../lib/serial-queue.js';
import type { SocketState, SocketWriter } from '../socket-writer.js';

export const defaultUserHubOptions = {
  rememberedIds: 1024, // notification ids remembered per socket to drop a second copy
};

export interface UserSocketState extends SocketState {
  /** Unique on this node: what Presence counts. */
  socketId: string;
  projectId: string;
  userId: string;
  badFrames: number;
  /** Notification ids this socket was sent, oldest first (a Set keeps insertion order). */
  sent: Set<string>;
  /** While a resume reads the inbox, live messages wait here so they follow what it sends. */
  held: object[] | undefined;
}

type UserSocket = WebSocket<UserSocketState>;

const notificationId = (message: object): string | undefined => {
  const { t, n } = message as { t?: unknown; n?: { id?: unknown } };
  return t === 'notification' && typeof n?.id === 'string' ? n.id : undefined;
};

/**
 * The live sockets of each end user (`/v1/user`) on this node, by project and user: where
 * the messages the bus carries for a user (channel `user`: in-app notifications, marks,
 * counts) reach their sockets, keeping a user's tabs in step. A socket gets a live
 * notification at most once, also when it races a resume that sends it too.
 *
 * @example
 * const users = createUserHub(writer);
 * subscribeTo(bus, 'user', ({ project, userId, message }) => users.push(project, userId, message));
 */
export function createUserHub(
  writer: SocketWriter,
  options: Partial<typeof defaultUserHubOptions> = {},
) {
  const opts = { ...defaultUserHubOptions, ...options };
  const byUser = new Map<string, Set<UserSocket>>();
  const tasks = createSerialQueue();
  const keyOf = (project: string, userId: string) => `${project}\u0000${userId}`;

  /**
   * Writes one message to one socket, unless it is a notification this socket already has
   * and `again` (a resume: the client asked for it) is not set.
   */
  function deliver(ws: UserSocket, message: object, again = false): 'sent' | 'had' | 'lost' {
    const state = ws.getUserData();
    const id = notificationId(message);
    if (id !== undefined && !again && state.sent.has(id)) return 'had';
    if (!writer.send(ws, message)) return 'lost';
    if (id !== undefined) {
      state.sent.delete(id); // re-added last, so it is forgotten last
      state.sent.add(id);
      if (state.sent.size > opts.rememberedIds)
        state.sent.delete(state.sent.values().next().value!);
    }
    return 'sent';
  }

  return {
    deliver,
    /**
     * To every socket of the user; answers how many have the message, or will once their
     * resume is done.
     */
    push(project: string, userId: string, message: object): number {
      let count = 0;
      for (const ws of byUser.get(keyOf(project, userId)) ?? []) {
        const state = ws.getUserData();
        if (state.closed) continue;
        if (state.held) {
          state.held.push(message);
          count += 1;
        } else if (deliver(ws, message) !== 'lost') count += 1;
      }
      return count;
    },
    /** Live messages for `ws` wait until `release`. */
    hold(ws: UserSocket): void {
      ws.getUserData().held ??= [];
    },
    /** Sends what waited; answers how many notifications among it were new to the socket. */
    release(ws: UserSocket): number {
      const state = ws.getUserData();
      const held = state.held ?? [];
      state.held = undefined;
      let fresh = 0;
      for (const message of held) {
        if (deliver(ws, message) === 'sent' && notificationId(message) !== undefined) fresh += 1;
      }
      return fresh;
    },
    /**
     * Runs `task` after every earlier task of the same user: marks and resumes read the inbox
     * and send counts, and in this order the last counts a socket gets are the current ones.
     */
    serial: <T>(project: string, userId: string, task: () => Promise<T>): Promise<T> =>
      tasks.push(keyOf(project, userId), task),
    /** Every open socket on this node. */
    *sockets(): Iterable<UserSocket> {
      for (const sockets of byUser.values())
        for (const ws of sockets) if (!ws.getUserData().closed) yield ws;
    },
    opened(ws: UserSocket): void {
      const { projectId, userId } = ws.getUserData();
      const key = keyOf(projectId, userId);
      let sockets = byUser.get(key);
      if (!sockets) byUser.set(key, (sockets = new Set()));
      sockets.add(ws);
    },
    closed(ws: UserSocket): void {
      const { projectId, userId } = ws.getUserData();
      const key = keyOf(projectId, userId);
      const sockets = byUser.get(key);
      sockets?.delete(ws);
      if (sockets?.size === 0) byUser.delete(key);
    },
  };
}

export type UserHub = ReturnType<typeof createUserHub>;
