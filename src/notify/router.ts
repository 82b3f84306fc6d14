import { randomBytes } from 'node:crypto';
import { createSerialQueue } from '../lib/serial-queue.js';
import type { Sealer } from '../state/sealer.js';
import { part, sortableTime, type StateStore } from '../state/state-store.js';
import type { Timers } from '../state/timers.js';
import type { Caps } from './caps.js';
import type { Channel } from './channel.js';
import type { DecisionLog } from './decision-log.js';
import type { Delivery } from './delivery.js';
import { createDigests } from './digests.js';
import type { Inbox } from './inbox.js';
import {
  channelNames,
  type ChannelName,
  type Notification,
  type NotificationIntent,
} from './notification.js';
import { channelEnabled, type PreferenceStore } from './preferences.js';
import { quietUntil } from './quiet-hours.js';

export interface RouterDeps {
  state: StateStore;
  preferences: PreferenceStore;
  caps: Caps;
  inbox: Inbox;
  channels: ReadonlyMap<ChannelName, Channel>;
  delivery: Delivery;
  decisions: DecisionLog;
  timers: Timers;
  /** Seals the template variables of notifications waiting for a digest. */
  sealer?: Sealer;
  now?: () => number;
}

/** A de-duplication key's value: `pending` from its claim until the route finished. */
type DedupClaim = { pending: string } | { done: string } | string;

interface RouteFlags {
  id?: string;
  /** Re-routing after quiet hours or as a digest: the earlier checks already passed. */
  resumed?: boolean;
}

/**
 * Smart delivery: decides for one user whether, when and through which channel a
 * notification goes, and records every decision with its reason. In order: once per
 * de-duplication key (a route that stopped after claiming the key is finished by the next
 * route of that key, so a firing run again after a crash neither repeats nor loses it); then (unless `critical`) the user's preferences for the
 * category, frequency caps, quiet hours (deferred to the minute they end, not dropped) and
 * digests (low priority, when the user wants them); then the channel: in-app when the user
 * holds a live socket, else web push when subscribed, else email — `critical` goes to every
 * reachable channel. Every notification that goes out is also kept in the user's inbox.
 *
 * @example
 * const router = createRouter({ state, preferences, caps, inbox, channels, delivery, decisions, timers });
 * await router.route(intent);
 */
export function createRouter(deps: RouterDeps) {
  const { state, preferences, caps, inbox, channels, delivery, decisions, timers } = deps;
  const now = deps.now ?? Date.now;
  const digests = createDigests(
    state,
    timers,
    (intent) => route(intent, { resumed: true }),
    deps.sealer,
  );

  timers.on('deferred', async (timer) => {
    const { intent, id } = timer.payload as { intent: NotificationIntent; id: string };
    await route(intent, { id, resumed: true });
  });

  // One user's routes in this process run one after another, in call order: a second route
  // of a de-duplication key then finds the first's claim done (and is suppressed) instead of
  // pending (and finishing it again), and caps count what went before. Different users'
  // routes run at once, so their writes share group commits.
  const users = createSerialQueue();
  const route = (intent: NotificationIntent, flags: RouteFlags = {}): Promise<Notification> =>
    users.push(`${intent.project}/${part(intent.userId)}`, () => routeNow(intent, flags));

  async function routeNow(intent: NotificationIntent, flags: RouteFlags): Promise<Notification> {
    const notification: Notification = { ...intent, id: flags.id ?? newId(now()), ts: now() };
    if (flags.resumed || intent.dedupKey === undefined) return decide(intent, notification, flags);
    const { project, userId } = notification;
    const key = dedupStateKey(project, userId, intent.dedupKey);
    const claim = await claimKey(key, notification.id);
    if (claim.done)
      return suppress(notification, `duplicate: key ${intent.dedupKey} already notified`);
    // A claim left pending: the route that made it stopped (a crash, Redis gone) before it
    // finished, and its firing runs again; this route finishes it under its id. (One still
    // running on another node is finished twice: sockets drop a second copy of an id.)
    const routed = await decide(intent, { ...notification, id: claim.id }, flags);
    await state.put(key, { done: routed.id });
    return routed;
  }

  /** Claims a de-duplication key: `done` when a route of it finished, else the id to route under. */
  async function claimKey(key: string, id: string): Promise<{ done: boolean; id: string }> {
    if (await state.putIfAbsent(key, { pending: id })) return { done: false, id };
    const earlier = await state.get<DedupClaim>(key);
    // A plain id is a claim made before claims were finished: it counts as done.
    if (earlier !== null && typeof earlier === 'object' && 'pending' in earlier)
      return { done: false, id: earlier.pending };
    return { done: true, id };
  }

  async function decide(
    intent: NotificationIntent,
    notification: Notification,
    flags: RouteFlags,
  ): Promise<Notification> {
    const { project, userId } = notification;
    const critical = intent.priority === 'critical';

    const prefs = await preferences.get(project, userId);
    let wanted = intent.channels;
    if (!critical) {
      wanted = wanted.filter((channel) => channelEnabled(prefs, intent.category, channel));
      if (wanted.length === 0)
        return suppress(notification, `preference: ${intent.category} is off on every channel`);
      const cap = await caps.exceeded(project, userId, intent.category, notification.ts);
      if (cap)
        return suppress(notification, `cap: ${cap.max} per ${cap.periodMs} ms for ${cap.category}`);
      const until = flags.resumed ? undefined : quietUntil(notification.ts, prefs);
      if (until !== undefined) {
        await timers.schedule(
          'deferred',
          until,
          { intent, id: notification.id },
          `deferred-${notification.id}`,
        );
        decisions.record(
          notification,
          'deferred',
          `quiet_hours: until ${new Date(until).toISOString()}`,
        );
        return notification;
      }
      if (!flags.resumed && intent.priority === 'low' && prefs.digest !== 'off') {
        await digests.collect(notification, prefs);
        decisions.record(notification, 'digested', `digest: ${prefs.digest}`);
        return notification;
      }
    }

    const reachable: ChannelName[] = [];
    for (const name of critical
      ? wanted
      : channelNames.filter((channel) => wanted.includes(channel))) {
      if (await channels.get(name)?.reachable(project, userId)) {
        reachable.push(name);
        if (!critical) break;
      }
    }
    const kept = intent.inbox !== false;
    if (!kept && reachable.length === 0)
      return suppress(
        notification,
        'unreachable: no channel reaches the user now (not kept in the inbox)',
      );
    await caps.count(project, userId, intent.category, notification.ts);
    if (kept) await inbox.append(notification);
    // A socket that opened since the check above read the inbox (its resume) before this
    // append: only a live push brings it the notification now.
    const connectedMeanwhile =
      kept &&
      !reachable.includes('in_app') &&
      wanted.includes('in_app') &&
      (await channels.get('in_app')?.reachable(project, userId)) === true;
    if (connectedMeanwhile) {
      decisions.record(notification, 'sent', 'connected while routed', 'in_app');
      await delivery.send('in_app', notification);
    }
    if (reachable.length === 0) {
      if (connectedMeanwhile) return notification;
      decisions.record(notification, 'sent', 'inbox_only: no channel reaches the user now');
      return notification;
    }
    for (const channel of reachable) {
      decisions.record(
        notification,
        'sent',
        critical ? 'critical: every reachable channel' : 'first reachable channel',
        channel,
      );
      await delivery.send(channel, notification);
    }
    return notification;
  }

  function suppress(notification: Notification, reason: string): Notification {
    decisions.record(notification, 'suppressed', reason);
    return notification;
  }

  return { route: (intent: NotificationIntent) => route(intent) };
}

export type Router = ReturnType<typeof createRouter>;

const dedupStateKey = (project: string, userId: string, dedupKey: string) =>
  `dedup/${project}/${part(userId)}/${part(dedupKey)}`;

/**
 * The id a de-duplication key was routed under, finished or not; undefined when never routed.
 * A caller routing a key again after a crash learns its first notification's id by it: the
 * repeat itself is suppressed under an id of its own.
 */
export async function routedId(
  state: StateStore,
  project: string,
  userId: string,
  dedupKey: string,
): Promise<string | undefined> {
  const claim = await state.get<DedupClaim>(dedupStateKey(project, userId, dedupKey));
  if (claim === undefined || claim === null) return undefined;
  if (typeof claim === 'string') return claim;
  return 'done' in claim ? claim.done : claim.pending;
}

/** Time-ordered ids: inbox keys sort by them, and resuming "after id" is "after time". */
function newId(ms: number): string {
  return `${sortableTime(ms)}-${randomHex(5)}`;
}

// Random bytes drawn 4 KiB at a time: a `randomBytes` call per notification was 3 % of a
// busy router's CPU (profile of the in-app throughput bench). Each byte is used once.
let pool = Buffer.alloc(0);
let used = 0;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}
