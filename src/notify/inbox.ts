import { part, type StateStore } from '../state/state-store.js';
import { wireNotification, type Notification, type WireNotification } from './notification.js';

export type InboxState = 'seen' | 'read' | 'archived';

/** A notification in a user's inbox, with its read state. Ids sort by time. */
export interface InboxItem extends WireNotification {
  seen: boolean;
  read: boolean;
  archived: boolean;
}

export interface InboxPage {
  items: InboxItem[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next: string | undefined;
}

/** Told of the items a mark changed: campaigns' reports and workflows count reads by them. */
export type OnMarked = (project: string, userId: string, ids: string[], as: InboxState) => void;

/**
 * Every routed notification lands in its user's inbox (`inbox/<project>/<user>/<id>`),
 * whatever channel delivered it, so any socket can resume from the last id it saw.
 */
export function createInbox(state: StateStore, onMarked?: OnMarked) {
  const prefix = (project: string, userId: string) => `inbox/${project}/${part(userId)}/`;
  const item = (n: Notification): InboxItem => ({
    ...wireNotification(n),
    seen: false,
    read: false,
    archived: false,
  });

  return {
    async append(notification: Notification): Promise<InboxItem> {
      const entry = item(notification);
      await state.put(
        `${prefix(notification.project, notification.userId)}${notification.id}`,
        entry,
      );
      return entry;
    },
    /** One item by its notification id, or undefined. */
    get: (project: string, userId: string, id: string): Promise<InboxItem | undefined> =>
      state.get<InboxItem>(`${prefix(project, userId)}${id}`),
    /** Newest first, `limit` per page, archived ones only when asked. */
    async list(
      project: string,
      userId: string,
      options: { limit?: number; before?: string; archived?: boolean } = {},
    ): Promise<InboxPage> {
      const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
      const base = prefix(project, userId);
      const items: InboxItem[] = [];
      let cursor = options.before ? `${base}${options.before}` : undefined;
      let more = true;
      while (items.length < limit && more) {
        const batch = await state.list<InboxItem>(base, {
          reverse: true,
          limit: limit * 2,
          ...(cursor ? { after: cursor } : {}),
        });
        more = batch.length === limit * 2;
        for (const [key, value] of batch) {
          cursor = key;
          if (value.archived && !options.archived) continue;
          items.push(value);
          if (items.length === limit) break;
        }
      }
      return { items, next: items.length === limit ? items[items.length - 1]!.id : undefined };
    },
    /** Items newer than `afterId` (oldest first): what a reconnecting socket missed. */
    async since(
      project: string,
      userId: string,
      afterId: string | undefined,
      limit = 500,
    ): Promise<InboxItem[]> {
      const base = prefix(project, userId);
      const entries = await state.list<InboxItem>(base, {
        limit,
        ...(afterId ? { after: `${base}${afterId}` } : {}),
      });
      return entries.map(([, value]) => value).filter((value) => !value.archived);
    },
    async counts(
      project: string,
      userId: string,
    ): Promise<{ total: number; unread: number; unseen: number }> {
      const entries = await state.list<InboxItem>(prefix(project, userId));
      let unread = 0;
      let unseen = 0;
      let total = 0;
      for (const [, value] of entries) {
        if (value.archived) continue;
        total += 1;
        if (!value.read) unread += 1;
        if (!value.seen) unseen += 1;
      }
      return { total, unread, unseen };
    },
    /** Marks items; `read` implies `seen`. Returns the ids that exist. */
    async mark(
      project: string,
      userId: string,
      ids: readonly string[],
      as: InboxState,
    ): Promise<string[]> {
      const done: string[] = [];
      const changed: string[] = [];
      for (const id of ids) {
        let before: InboxItem | undefined;
        // One update per item: marks made on two nodes at once both stay.
        const marked = await state.update<InboxItem>(`${prefix(project, userId)}${id}`, (value) => {
          before = value;
          return (
            value && {
              ...value,
              seen: true,
              read: value.read || as === 'read',
              archived: value.archived || as === 'archived',
            }
          );
        });
        if (!marked) continue;
        done.push(id);
        if (before && !before[as]) changed.push(id);
      }
      if (changed.length > 0) onMarked?.(project, userId, changed, as);
      return done;
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;
