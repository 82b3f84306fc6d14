import { publishOn } from '../../../cluster/bus-channels.js';
import type { Bus } from '../../../cluster/bus.js';
import type { Presence } from '../../../cluster/presence.js';
import type { Channel, SendResult } from '../../channel.js';
import { wireNotification } from '../../notification.js';

export interface InAppDeps {
  /** Carries the notification to the user's sockets on every node (channel `user`). */
  bus: Bus;
  /** Whether the user holds a `/v1/user` socket on any node. */
  presence: Presence;
}

/**
 * The in-app channel: pushes `{t:"notification", n}` to every socket the user holds open
 * on `/v1/user`, whichever node holds it: delivered when the user is online, and only then
 * published. The inbox keeps the notification whatever happens here, so a user who was
 * offline gets it when a socket resumes; `offline` is a final answer, not a retry.
 *
 * @example
 * const inApp = createInAppChannel({ bus, presence });
 * await inApp.send(notification); // { status: 'delivered', detail: 'online' }
 */
export function createInAppChannel(deps: InAppDeps): Channel {
  const { bus, presence } = deps;
  return {
    name: 'in_app',
    reachable: (project, userId) => presence.online(project, userId),
    async send(notification): Promise<SendResult> {
      const { project, userId } = notification;
      if (!(await presence.online(project, userId))) return { status: 'failed', reason: 'offline' };
      const message = { t: 'notification', n: wireNotification(notification) };
      publishOn(bus, 'user', { project, userId, message });
      return { status: 'delivered', detail: 'online' };
    },
  };
}
