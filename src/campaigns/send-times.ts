import { TZDate } from '@date-fns/tz';
import { nextSendAt, spreadMinutes } from '../analytics/send-hours.js';
import type { CampaignSpec } from './campaign-spec.js';

const hourMs = 3_600_000;
/** The earliest zone in use (UTC+14, Kiribati) reaches a wall-clock time this long before UTC. */
const earliestZoneMs = 14 * hourMs;

/**
 * What `sendAt: "best"` needs (src/analytics/send-hours.ts): each user's best UTC hour of the
 * day to be sent to, learned from their own past activity, else the project's best hour.
 */
export interface SendHours {
  bestHours(
    project: string,
    userIds: readonly string[],
    nowMs: number,
  ): Promise<{ users: ReadonlyMap<string, { hour: number }>; projectHour: number }>;
}

/** What local-time campaigns read of each recipient: their time zone (preferences). */
export interface TimeZones {
  timeZoneOf(project: string, userId: string): Promise<string>;
}

/**
 * `YYYY-MM-DDTHH:MM[:SS]` on the wall clock of `timeZone`; a time that has passed there at
 * `nowMs` moves to the same wall-clock time the next day, so nobody gets a morning message
 * at night (Braze's and Customer.io's local-time rule).
 */
export function localInstant(wall: string, timeZone: string, nowMs: number): number {
  const [date, time] = wall.split('T') as [string, string];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, s = 0] = time.split(':').map(Number) as [number, number, number?];
  const at = TZDate.tz(timeZone, y, m - 1, d, h, mi, s);
  if (at.getTime() < nowMs) at.setDate(at.getDate() + 1);
  return at.getTime();
}

/**
 * When a campaign's recipients get it. `startAt` is when the audience is read: at once for
 * `now` and `best`, at the instant for a fixed time, and for a local time when the earliest
 * time zone reaches it (so the audience is as fresh as it can be). `plan` gives each
 * recipient's send time.
 *
 * @example
 * const times = createSendTimes({ zones, hours });
 * const dueAt = await times.plan('dev', spec, ['u1', 'u2'], Date.now());
 */
export function createSendTimes(deps: { zones: TimeZones; hours?: SendHours }) {
  function startAt(spec: CampaignSpec, nowMs: number): number {
    const { sendAt } = spec;
    if (sendAt === 'now' || sendAt === 'best') return nowMs;
    if (typeof sendAt === 'number') return Math.max(nowMs, sendAt);
    if (!spec.localTime) return Math.max(nowMs, Date.parse(sendAt));
    return Math.max(nowMs, localInstant(sendAt, 'UTC', 0) - earliestZoneMs);
  }

  return {
    startAt,

    /** Each recipient's send time (epoch ms), in the order of `users`. */
    async plan(
      project: string,
      spec: CampaignSpec,
      users: readonly string[],
      nowMs: number,
    ): Promise<number[]> {
      const { sendAt } = spec;
      if (sendAt === 'best') {
        if (!deps.hours) throw new Error('sendAt "best" needs the analytics store');
        const best = await deps.hours.bestHours(project, users, nowMs);
        // Each recipient at a minute of their hour of their own, so a large send spreads
        // over the hour instead of queueing at its first minute.
        return users.map((user) =>
          nextSendAt(
            best.users.get(user)?.hour ?? best.projectHour,
            nowMs,
            spreadMinutes(user, 60),
          ),
        );
      }
      if (typeof sendAt === 'string' && spec.localTime) {
        const zones = await Promise.all(users.map((u) => deps.zones.timeZoneOf(project, u)));
        return zones.map((zone) => localInstant(sendAt, zone, nowMs));
      }
      const at = startAt(spec, nowMs);
      return users.map(() => at);
    },
  };
}

export type SendTimes = ReturnType<typeof createSendTimes>;
