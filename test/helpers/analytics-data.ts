import type { EventRow } from '../../src/model/event.js';
import { seeded } from './event-generator.js';
import { eventRows } from './event-rows.js';

export const dayMs = 86_400_000;

export interface AnalyticsDataOptions {
  seed: number;
  project: string;
  /** The first day (UTC midnight). */
  t0: number;
  days: number;
  /** Persons who log in at some point; `anonymous` never do. */
  users: number;
  anonymous: number;
}

export interface AnalyticsData {
  rows: EventRow[];
  /** Planted merges: anonymous id → the user its first event with both ids names. */
  merges: Map<string, string>;
  /** Anonymous ids later seen with a second user (a shared device): the first merge must win. */
  contested: string[];
}

const artists = ['ar0', 'ar1', 'ar2', 'ar3', 'ar4', 'ar5', 'ar6', 'ar7'];
const sources = ['ad', 'seo', 'mail', 'friend'];

/**
 * A seeded product-analytics data set: visitors browse anonymously, most log in (an `identify`
 * event, or a `signup` that carries both ids), some never do; signed-up users return on later
 * days less and less often, play songs, view and buy tickets (a funnel with drop-offs and some
 * steps outside an hour), and a few anonymous ids are later used by a second user. Every event
 * has its own millisecond, so orders are never ties.
 */
export function generateAnalyticsData(options: AnalyticsDataOptions): AnalyticsData {
  const random = seeded(options.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const { rows, add: addRow } = eventRows(options.project);
  const merges = new Map<string, string>();
  const contested: string[] = [];
  const add = (type: string, at: number, user: string, anon: string, props: object = {}) => {
    if (user && anon && !merges.has(anon)) merges.set(anon, user);
    return addRow(type, at, { user, anon }, props);
  };
  const span = options.days * dayMs;
  const people = options.users + options.anonymous;
  for (let i = 0; i < people; i++) {
    const anon = `anon-${i}`;
    const user = i < options.users ? `user-${i}` : '';
    let t = options.t0 + random() * span * 0.7;
    const src = random() < 0.8 ? { src: pick(sources) } : {};
    for (let v = 1 + Math.floor(random() * 3); v > 0; v--) {
      t += random() * 600_000;
      add('page.view', t, '', anon, { ...src, artist: pick(artists) });
    }
    if (!user || random() < 0.25) continue; // dropped off before signing up
    t += random() < 0.8 ? random() * 1800_000 : 3600_000 + random() * 3 * 3600_000;
    if (random() < 0.6) add('identify', t, user, anon);
    add('signup', (t += 1000), random() < 0.6 ? '' : user, anon, { ...src });
    if (random() < 0.6) {
      const late = random() < 0.3;
      t += late ? 2 * 3600_000 + random() * dayMs : random() * 3000_000;
      add('ticket.buy', t, user, random() < 0.5 ? anon : '', {
        price: 10 + Math.floor(random() * 90),
      });
    }
    // Later days: each returns with a falling chance and does a few things.
    for (let day = 1; t < options.t0 + span; day++) {
      t += dayMs * (0.5 + random());
      if (t >= options.t0 + span || random() > 0.85 / Math.sqrt(day)) continue;
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        t += random() * 900_000;
        const play = {
          artist: pick(artists),
          ...(random() < 0.9 ? { duration: Math.floor(random() * 300) } : {}),
        };
        add(
          random() < 0.7 ? 'song.play' : 'ticket.view',
          t,
          user,
          random() < 0.5 ? anon : '',
          play,
        );
      }
    }
    if (i % 17 === 3) contested.push(anon);
  }
  // A shared device: someone else logs in on it after everything else; the first merge wins.
  for (const [n, anon] of contested.entries()) {
    const other = `user-${(Number(anon.slice(5)) + 1 + n) % options.users}`;
    add('identify', options.t0 + span + (n + 1) * 1000, other, anon);
  }
  add('system.tick', options.t0 + 5000, '', ''); // no person at all
  return { rows, merges, contested };
}
