import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'uWebSockets.js';
import { backoffMs } from '../../lib/backoff.js';
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
 * frames, oldest first, then `{t:"counts"}`; a failure is answered on the socket. Live pushes
 * wait from the call on and follow, without those the resume already sent; if any of them was
 * new, fresh counts follow too.
 */
export async function resume(
  ctx: UserSocketContext,
  ws: WebSocket<UserSocketState>,
  after: string | undefined,
): Promise<void> {
  try {
    await resumeOnce(ctx, ws, after, true);
  } catch (err) {
    ctx.sendError(ws, err);
  }
}

/**
 * One resume; rejects when the inbox could not be read. `again` false leaves out the
 * notifications the socket already has (a resume the server starts, not one the client asked for).
 */
async function resumeOnce(
  ctx: UserSocketContext,
  ws: WebSocket<UserSocketState>,
  after: string | undefined,
  again: boolean,
): Promise<void> {
  const { hub, inbox, writer } = ctx;
  const { projectId, userId } = ws.getUserData();
  // Held from now, not from when the task gets its turn, so nothing overtakes the missed ones.
  hub.hold(ws);
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
}

/** Notification ids carry their router's clock: a drop is looked back from this much earlier. */
const clockSkewMs = 10_000;

export const defaultCatchUpOptions = {
  retryBaseMs: 100, // first pause after a catch-up whose inbox read failed; doubles, jittered
  retryMaxMs: 5000, // pause cap; retried while the socket is open
};

/**
 * What the bus carried while this node was not subscribed never reached its sockets (Redis
 * pub/sub keeps nothing); the inbox has the notifications. Once the bus holds again, each
 * socket gets those since the drop that it lacks, then fresh counts. The inbox is read on
 * another connection than the bus's subscriber, which may not be back yet: a catch-up whose
 * read fails is counted and tried again (capped backoff) until it is done or the socket
 * closes, since nothing else would bring those notifications.
 */
export function resumeAfterBusDrops(
  ctx: UserSocketContext,
  options: Partial<typeof defaultCatchUpOptions> = {},
): void {
  const opts = { ...defaultCatchUpOptions, ...options };
  ctx.bus.onResubscribed?.((droppedAt) => {
    const after = sortableTime(Math.max(0, droppedAt - clockSkewMs));
    const drop = { after, warned: false };
    for (const ws of ctx.hub.sockets()) void catchUp(ws, drop);
  });

  async function catchUp(
    ws: WebSocket<UserSocketState>,
    drop: { after: string; warned: boolean },
  ): Promise<void> {
    for (let attempt = 1; !ws.getUserData().closed; attempt++) {
      try {
        return await resumeOnce(ctx, ws, drop.after, false);
      } catch (err) {
        if (ws.getUserData().closed) return;
        ctx.metrics.userCatchUpFailures.inc({ reason: 'inbox_unavailable' });
        // Every socket of the node fails alike: one warning per drop, not per socket or attempt.
        if (!drop.warned) ctx.log.warn({ err }, 'user socket catch-up failed; retrying');
        drop.warned = true;
        await sleep(backoffMs(attempt, opts.retryBaseMs, opts.retryMaxMs));
      }
    }
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
