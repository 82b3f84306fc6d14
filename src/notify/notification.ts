import { z } from 'zod';

/**
 * Every channel's name (notify/channels/index.ts opens them), in the router's order: without
 * a critical priority, the first reachable one wins.
 */
export const channelNames = ['in_app', 'web_push', 'email'] as const;
export type ChannelName = (typeof channelNames)[number];

/** `critical` bypasses preferences and quiet hours and goes to every enabled channel. */
export const priorities = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof priorities)[number];

/** What a rule asks for, for one user; the router decides whether, when and how. */
export interface NotificationIntent {
  project: string;
  userId: string;
  rule: string;
  category: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  priority: Priority;
  /** At most one notification per key per user. */
  dedupKey: string | undefined;
  channels: ChannelName[];
  /** Template id and variables, for channels that render their own (email). */
  template: string | undefined;
  variables: Record<string, unknown>;
  /**
   * `false`: delivered without an inbox item, for a workflow's later step through another
   * channel (the item is in the inbox from its first send). Absent: kept in the inbox.
   */
  inbox?: false;
}

/** A notification as delivered and kept in the inbox. */
export interface Notification extends NotificationIntent {
  id: string;
  ts: number;
}

/**
 * The notification as users get it: in `{t:"notification", n}` frames, web push payloads and
 * inbox items.
 */
export const wireNotification = (n: Notification) => ({
  id: n.id,
  category: n.category,
  title: n.title,
  body: n.body,
  data: n.data,
  ts: n.ts,
});

export type WireNotification = ReturnType<typeof wireNotification>;

export const priorityField = z.enum(priorities);
export const channelField = z.enum(channelNames);
