import type { Channel, SendResult } from '../../channel.js';
import { wireNotification } from '../../notification.js';

/**
 * What the in-app channel needs of the live user sockets, declared here so notify never
 * imports transport: the transport's user hub satisfies it.
 */
export interface Presence {
  online(project: string, userId: string): boolean;
  /** Writes `message` to every live socket of the user; answers how many took it. */
  push(project: string, userId: string, message: object): number;
}

/**
 * The in-app channel: pushes `{t:"notification", n}` to every socket the user holds open
 * on `/v1/user`. The inbox keeps the notification whatever happens here, so a user who was
 * offline gets it when a socket resumes; `offline` is a final answer, not a retry.
 *
 * @example
 * const inApp = createInAppChannel(userHub);
 * await inApp.send(notification); // { status: 'delivered', detail: 'sockets=2' }
 */
export function createInAppChannel(presence: Presence): Channel {
  return {
    name: 'in_app',
    reachable: async (project, userId) => presence.online(project, userId),
    async send(notification): Promise<SendResult> {
      const sockets = presence.push(notification.project, notification.userId, {
        t: 'notification',
        n: wireNotification(notification),
      });
      return sockets > 0
        ? { status: 'delivered', detail: `sockets=${sockets}` }
        : { status: 'failed', reason: 'offline' };
    },
  };
}
