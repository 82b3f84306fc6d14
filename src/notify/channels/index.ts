import type { Channel } from '../channel.js';
import { channelNames, type ChannelName } from '../notification.js';
import { createEmailChannel, type EmailChannelDeps } from './email/email.js';
import { createInAppChannel, type InAppDeps } from './in-app/in-app.js';
import { createWebPushChannel, type WebPushDeps } from './web-push/web-push.js';

/** What the channels are made of; each takes its own part. */
export interface ChannelDeps {
  inApp: InAppDeps;
  webPush: WebPushDeps;
  /** Absent when no email provider or sender is configured: then there is no email channel. */
  email: EmailChannelDeps | undefined;
}

/**
 * Every channel, once: adding one is its own folder, its name in `channelNames` and one
 * line here (the compiler holds the two lists together).
 */
const registry = {
  in_app: (deps: ChannelDeps) => createInAppChannel(deps.inApp),
  web_push: (deps: ChannelDeps) => createWebPushChannel(deps.webPush),
  email: (deps: ChannelDeps) => (deps.email ? createEmailChannel(deps.email) : undefined),
} satisfies Record<ChannelName, (deps: ChannelDeps) => Channel | undefined>;

/**
 * The channels this server can deliver through, by name, in the router's order.
 *
 * @example
 * const channels = openChannels({ inApp: { bus, presence }, webPush: { subscriptions, vapid, endpoints }, email: undefined });
 * channels.get('in_app')?.send(notification);
 */
export function openChannels(deps: ChannelDeps): Map<ChannelName, Channel> {
  const channels = new Map<ChannelName, Channel>();
  for (const name of channelNames) {
    const channel = registry[name](deps);
    if (channel) channels.set(name, channel);
  }
  return channels;
}
