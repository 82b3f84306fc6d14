import type { WebSocket } from 'uWebSockets.js';
import type { Inbox, InboxItem } from '../../notify/inbox.js';
import { optionalId } from '../../notify/inbox-marks.js';
import { maxResumeItems, type UserSocketContext } from './user-context.js';
import type { UserSocketState } from './user-hub.js';

/** `{t:"resume", after?}`: the notifications after `after`, then `{t:"counts"}`. */
export function handleResume(
  ctx: UserSocketContext,
  ws: WebSocket<UserSocketState>,
  msg: Record<string, unknown>,
): void {
  void resume(ctx, ws, optionalId(msg.after, 'after'));
}

/**
 * Sends what the user's inbox holds after `after` (none without it) as `{t:"notification"}`
 * frames, oldest first, then `{t:"counts"}`. Live pushes wait from the call on and follow,
 * without those the resume already sent; if any of them was new, fresh counts follow too.
 */
export async function resume(
  ctx: UserSocketContext,
  ws: WebSocket<UserSocketState>,
  after: string | undefined,
): Promise<void> {
  const { hub, inbox, writer } = ctx;
  const { projectId, userId } = ws.getUserData();
  // Held from now, not from when the task gets its turn, so nothing overtakes the missed ones.
  hub.hold(ws);
  try {
    await hub.serial(projectId, userId, async () => {
      hub.hold(ws);
      let fresh: number;
      try {
        const items = after === undefined ? [] : await missed(inbox, projectId, userId, after);
        for (const item of items) hub.deliver(ws, { t: 'notification', n: resumed(item) }, true);
        writer.send(ws, { t: 'counts', ...(await inbox.counts(projectId, userId)) });
      } finally {
        fresh = hub.release(ws);
      }
      if (fresh > 0) writer.send(ws, { t: 'counts', ...(await inbox.counts(projectId, userId)) });
    });
  } catch (err) {
    ctx.sendError(ws, err);
  }
}

/** Pages through `since`, as a page leaves out archived items and may come back short. */
async function missed(
  inbox: Inbox,
  project: string,
  userId: string,
  after: string,
): Promise<InboxItem[]> {
  const items: InboxItem[] = [];
  let cursor = after;
  while (items.length < maxResumeItems) {
    const page = await inbox.since(project, userId, cursor, maxResumeItems - items.length);
    if (page.length === 0) break;
    items.push(...page);
    cursor = page[page.length - 1]!.id;
  }
  return items;
}

/** A missed notification carries its read state: another tab or device may have read it. */
const resumed = (item: InboxItem) => ({
  id: item.id,
  category: item.category,
  title: item.title,
  body: item.body,
  data: item.data,
  ts: item.ts,
  seen: item.seen,
  read: item.read,
});
