import type { WebSocket } from 'uWebSockets.js';
import type { Inbox, InboxItem } from '../../notify/inbox.js';
import { optionalId } from '../../notify/inbox-marks.js';
import { sortableTime } from '../../state/state-store.js';
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
 * `again` false leaves out the notifications the socket already has (a resume the server
 * starts, not one the client asked for).
 */
export async function resume(
  ctx: UserSocketContext,
  ws: WebSocket<UserSocketState>,
  after: string | undefined,
  again = true,
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
        for (const item of items) hub.deliver(ws, { t: 'notification', n: resumed(item) }, again);
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

/** Notification ids carry their router's clock: a drop is looked back from this much earlier. */
const clockSkewMs = 10_000;

/**
 * What the bus carried while this node was not subscribed never reached its sockets (Redis
 * pub/sub keeps nothing); the inbox has the notifications. Once the bus holds again, each
 * socket gets those since the drop that it lacks, then fresh counts.
 */
export function resumeAfterBusDrops(ctx: UserSocketContext): void {
  ctx.bus.onResubscribed?.((droppedAt) => {
    const after = sortableTime(Math.max(0, droppedAt - clockSkewMs));
    for (const ws of ctx.hub.sockets()) void resume(ctx, ws, after, false);
  });
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
