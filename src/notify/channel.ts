import type { ChannelName, Notification } from './notification.js';

/** The outcome of one attempt to deliver through a channel. */
export type SendResult =
  | { status: 'delivered'; detail?: string }
  | { status: 'retry'; reason: string; afterMs?: number }
  | { status: 'failed'; reason: string };

/**
 * A way to reach a user: in-app, web push and email implement it, each in its own folder
 * under notify/channels/, opened from the registry there (channels/index.ts).
 * `reachable` says whether this channel can reach the user at all right now (a live socket,
 * a push subscription, an email address not disabled by bounces).
 */
export interface Channel {
  readonly name: ChannelName;
  reachable(project: string, userId: string): Promise<boolean>;
  send(notification: Notification): Promise<SendResult>;
}
