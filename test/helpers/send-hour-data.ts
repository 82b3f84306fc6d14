import type { EventRow } from '../../src/model/event.js';
import { seeded } from './event-generator.js';
import { eventRows } from './event-rows.js';

const hourMs = 3600_000;
export const dayMs = 24 * hourMs;

export interface SendHourDataOptions {
  seed: number;
  project: string;
  /** The first day of the lookback (UTC midnight); `before` days of history precede it. */
  t0: number;
  days: number;
  before: number;
  users: number;
}

export interface PlantedUser {
  id: string;
  /** The UTC hour they are active around. */
  habit: number;
}

/**
 * Users with planted habits: each is active on a share of days (some on too few days for an
 * own hour) mostly around their habit hour (a normal spread of 40 minutes around its middle),
 * with a quarter of their events at random hours; notifications are delivered at 09:00 (an
 * ignored type) and opened or clicked near the habit. A third browsed anonymously before
 * signing up (an `identify` merges them); some devices are shared, later used anonymously and
 * by a second user. Habits: 40% of users in the evening (18–22), the rest any hour. The days
 * before `t0` put every user at another hour, which the lookback must leave out.
 */
export function generateSendHourData(options: SendHourDataOptions) {
  const random = seeded(options.seed);
  const { rows, add } = eventRows(options.project);
  const users: PlantedUser[] = [];
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const nearHabit = (day: number, habit: number) =>
    day + habit * hourMs + hourMs / 2 + normal() * 40 * 60_000;
  for (let i = 0; i < options.users; i++) {
    const id = `u${i}`;
    const habit = random() < 0.4 ? 18 + Math.floor(random() * 5) : Math.floor(random() * 24);
    users.push({ id, habit });
    const activeShare = random() < 0.1 ? 0.08 : 0.2 + random() * 0.5;
    const anon = random() < 0.33 ? `a${i}` : '';
    let merged = false;
    for (let d = -options.before; d < options.days; d++) {
      const day = options.t0 + d * dayMs;
      if (random() > activeShare) continue;
      const at = d < 0 ? (habit + 12) % 24 : habit;
      const who = anon && !merged ? { anon } : { user: id };
      if (anon && !merged && d >= 2) {
        add('identify', nearHabit(day, at), { user: id, anon });
        merged = true;
      }
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--)
        add(random() < 0.5 ? 'page.view' : 'song.play', nearHabit(day, at), who);
      if (random() < 0.25) add('page.view', day + random() * dayMs, who);
      if (random() < 0.3) notified(day, at, id);
    }
    if (anon && merged && i % 7 === 0) shared(anon, i);
  }

  /** A notification delivered at 09:00, opened (and at times clicked) near the habit. */
  function notified(day: number, habit: number, user: string) {
    const channel = random() < 0.5 ? 'email' : 'notification';
    add(channel === 'email' ? 'email.delivered' : 'push.delivered', day + 9 * hourMs, { user });
    if (random() < 0.6) add(`${channel}.open`, nearHabit(day, habit), { user });
    if (random() < 0.2) add(`${channel}.click`, nearHabit(day, habit), { user });
  }

  /** The device later used anonymously (still the first user's) and by someone else. */
  function shared(anon: string, i: number) {
    const last = options.t0 + (options.days - 1) * dayMs;
    for (let n = 0; n < 6; n++) add('page.view', last - n * dayMs + 3 * hourMs, { anon });
    const other = `u${(i + 1) % options.users}`;
    for (let n = 0; n < 3; n++)
      add('song.play', last - n * dayMs + 5 * hourMs, { user: other, anon });
  }

  add('system.tick', options.t0 + 5000, {}); // no person at all
  return { rows: rows as EventRow[], users };
}
