import { publishOn } from '../cluster/bus-channels.js';
import type { Bus } from '../cluster/bus.js';
import { BacklineError } from '../errors.js';
import type { Inbox, InboxState } from './inbox.js';

export const maxIdsPerMark = 500;
export const maxIdLength = 128;

/** The verbs of frames and routes (`archive`) and the states they set (`archived`). */
export const markActions = {
  read: 'read',
  seen: 'seen',
  archive: 'archived',
} as const satisfies Record<string, InboxState>;

export type MarkAction = keyof typeof markActions;

/** An optional notification id (`after`, `before`): a string of at most 128 characters. */
export function optionalId(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxIdLength)
    throw new BacklineError('BAD_FRAME', `\`${name}\` must be a notification id`);
  return value;
}

/** `ids`: 1 to 500 notification ids. */
export function parseIds(value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > maxIdsPerMark ||
    !value.every((id) => typeof id === 'string' && id.length > 0 && id.length <= maxIdLength)
  ) {
    throw new BacklineError(
      'BAD_FRAME',
      `\`ids\` must be a list of 1 to ${maxIdsPerMark} notification ids`,
    );
  }
  return value as string[];
}

/**
 * The per-user queue that marks and resumes share (the transport's user hub keeps it),
 * declared here so notify never imports transport.
 */
export interface UserTasks {
  /** Runs `task` after the user's earlier marks and resumes. */
  serial<T>(project: string, userId: string, task: () => Promise<T>): Promise<T>;
}

/**
 * Marks inbox items, then tells every live socket of the user on every node (`{t:"marked",
 * as, ids}` and fresh `{t:"counts"}` on the bus's `user` channel), so each open tab shows the
 * same state whichever tab or HTTP call marked them. Answers the ids that exist and the
 * counts after marking.
 */
export function markAndAnnounce(
  deps: { inbox: Inbox; bus: Bus; hub: UserTasks },
  project: string,
  userId: string,
  action: MarkAction,
  ids: readonly string[],
): Promise<{ ids: string[]; counts: { total: number; unread: number; unseen: number } }> {
  const { inbox, bus, hub } = deps;
  return hub.serial(project, userId, async () => {
    const as = markActions[action];
    const marked = await inbox.mark(project, userId, ids, as);
    const counts = await inbox.counts(project, userId);
    publishOn(bus, 'user', { project, userId, message: { t: 'marked', as, ids: marked } });
    publishOn(bus, 'user', { project, userId, message: { t: 'counts', ...counts } });
    return { ids: marked, counts };
  });
}
