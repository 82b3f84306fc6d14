import { Packr, unpack } from 'msgpackr';
import WebSocket from 'ws';

// The server reads MessagePack maps on every socket.
const packr = new Packr({ useRecords: false });

/** A user's in-app notifications as one `/v1/user` socket after another delivered them. */
export interface NotificationWatch {
  /** Notification ids in arrival order, repeats kept, over every socket of this watch. */
  readonly received: readonly string[];
  /** `data.event` of each notification id received (the event that fired it). */
  readonly eventOf: ReadonlyMap<string, string>;
  /** The socket is open. */
  readonly open: boolean;
  /** The last `{t:"counts"}` received. */
  readonly counts: { unread: number; unseen: number; total: number } | undefined;
  /** Every `{t:"marked"}` received. */
  readonly marks: ReadonlyArray<{ as: string; ids: string[] }>;
  /**
   * Opens a socket on `wsOrigin` resuming after the last id received (`after=0`, the whole
   * inbox, when none was), once the previous socket is closed; resolves on the first counts.
   */
  connect(wsOrigin: string): Promise<void>;
  /** Sends a client message (`{t:"read", ids}`) on the open socket. */
  send(message: object): void;
  close(): void;
}

/**
 * Follows one user's notifications across sockets, as a client that reconnects with
 * `?after=<last id seen>` does, counting every frame, so a notification delivered twice (live
 * and resumed, or on two sockets of the watch) shows as a repeat in `received`.
 *
 * @example
 * const watch = watchNotifications(token);
 * await watch.connect(cluster.node(2).wsUrl); // …node 2 dies…
 * await watch.connect(cluster.node(3).wsUrl); // resumes after the last one seen
 */
export function watchNotifications(token: string): NotificationWatch {
  const received: string[] = [];
  const eventOf = new Map<string, string>();
  const marks: Array<{ as: string; ids: string[] }> = [];
  let socket: WebSocket | undefined;
  let counts: NotificationWatch['counts'];

  return {
    received,
    eventOf,
    marks,
    get counts() {
      return counts;
    },
    get open() {
      return socket?.readyState === WebSocket.OPEN;
    },
    async connect(wsOrigin) {
      if (socket && socket.readyState !== WebSocket.CLOSED)
        throw new Error('the previous socket of this watch is still open');
      const after = received.length > 0 ? [...received].sort().at(-1)! : '0';
      const url = `${wsOrigin}/v1/user?token=${token}&after=${encodeURIComponent(after)}`;
      const ws = (socket = new WebSocket(url));
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.on('message', (data: Buffer) => {
          const message = unpack(data) as {
            t: string;
            n?: { id: string; data?: { event?: string } };
            as?: string;
            ids?: string[];
            unread?: number;
            unseen?: number;
            total?: number;
          };
          if (message.t === 'counts') {
            const { unread = 0, unseen = 0, total = 0 } = message;
            counts = { unread, unseen, total };
            resolve();
          }
          if (message.t === 'marked') marks.push({ as: message.as!, ids: message.ids! });
          if (message.t !== 'notification') return;
          received.push(message.n!.id);
          if (message.n!.data?.event) eventOf.set(message.n!.id, message.n!.data.event);
        });
      });
    },
    send(message) {
      socket!.send(packr.pack(message));
    },
    close: () => socket?.close(),
  };
}
