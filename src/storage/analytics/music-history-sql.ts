import { quote } from '../field-sql.js';

/**
 * A live-music app's history, generated in SQL: `INSERT … SELECT … FROM numbers()` with
 * deterministic hashes, so the same spec stores the same rows on every run, at the engine's
 * insert speed (no rows cross from Node). Used by the `analytics` bench scenario (10M events)
 * and by the demo (`npm start -- --demo`), so both read the same shape of data:
 *
 * - **persons**: `fan-<n>`; 30% exist from the first day (known users, `userId` only), the
 *   rest arrive evenly over the days, each first seen as `anon-<n>` until their signup
 *   (within 12 h of their arrival), after which they send `userId`; their events of the day
 *   after signup (the same device) and `identify` events (about 1 in 25) carry both ids, so
 *   identities merge their anonymous history; one newcomer in five never signs up and stays
 *   anonymous.
 * - **activity**: half the events go to recent arrivals (so retention decays from each
 *   cohort), half to a skewed share of everyone eligible that day (a loyal core).
 * - **types**: song.play 45%, page.view 20%, show.view 12%, vote.cast 12%, artist.follow 4%,
 *   ticket.purchase 2%, search 1%, identify 4%; props carry `artistId` (200 artists, a few
 *   popular), `genre` (8), `showId`, `songId`, `ms`, `price`, `path`.
 * - **planted**: weekly seasonality (events per day by the UTC weekday, Saturday the
 *   busiest), a trending artist (`artist-42`'s share of artist events grows from its usual
 *   to 30% over the last 3 days) and churn: a quarter of the persons (`fan-<n>` with n % 4 = 1) leave at a
 *   time drawn from a week after their arrival to three weeks past the history's end; over the
 *   14 days before, their activity tapers to a quarter, and the events they no longer send go
 *   to `fan-<n−1>` (who stays), so every day keeps its count.
 */
export interface MusicHistorySpec {
  project: string;
  events: number;
  persons: number;
  days: number;
  /** Exclusive end of the event times (epoch ms); the days are the `days` × 24 h before it. */
  endMs: number;
  /** Event ids are this followed by the row number (`hist-0` …). */
  idPrefix: string;
}

/** One insert: the events of one day of the history, rows [first, first + count). */
export interface MusicHistoryDay {
  startMs: number;
  first: number;
  count: number;
}

const dayMs = 86_400_000;
/** Events per day by UTC weekday (Sunday first): the seasonality a weekly trend shows. */
export const weekdayWeights = [1.1, 0.8, 0.8, 0.85, 0.95, 1.25, 1.45];
const genres = ['rock', 'indie', 'pop', 'jazz', 'electronic', 'folk', 'hip-hop', 'metal'];
const paths = ['/', '/shows', '/shows/:id', '/artists/:id', '/setlists/:id', '/search'];
const artists = 200;
export const trendingArtist = 'artist-42';
const foundingShare = 0.3;
const surgeMs = 3 * dayMs; // the trending artist's share of artist events grows to 30% over these
const taperMs = 14 * dayMs; // a leaving person's activity falls to a quarter over these
const staysAfterEndMs = 21 * dayMs; // the latest a leaving person leaves, past the end

/**
 * The history's days with their share of the events, by weekday weight. A day is the 24 h
 * before `endMs` and before each of those, so it straddles two UTC days unless `endMs` is a
 * midnight: it takes the weight of the UTC day holding its middle, which holds most of it
 * (by its start, a history ending at 18:00 put three quarters of Saturday's weight on
 * Sunday, and a weekly trend showed Friday as the busiest day).
 */
export function musicHistoryDays(spec: MusicHistorySpec): MusicHistoryDay[] {
  const starts = Array.from({ length: spec.days }, (_, d) => spec.endMs - (spec.days - d) * dayMs);
  const weights = starts.map((ms) => weekdayWeights[new Date(ms + dayMs / 2).getUTCDay()]!);
  const total = weights.reduce((a, b) => a + b, 0);
  let before = 0;
  return starts.map((startMs, d) => {
    const first = Math.round((before / total) * spec.events);
    before += weights[d]!;
    return { startMs, first, count: Math.round((before / total) * spec.events) - first };
  });
}

const uniform = (salt: number) => `(cityHash64(number, ${salt}) / 18446744073709551616.)`;
const list = (values: readonly string[]) => `[${values.map(quote).join(', ')}]`;

/** The INSERT of day `d` of `musicHistoryDays(spec)`. */
export function musicHistorySql(spec: MusicHistorySpec, d: number): string {
  const day = musicHistoryDays(spec)[d];
  if (!day) throw new Error(`the history has no day ${d}`);
  const startMs = spec.endMs - spec.days * dayMs;
  const founders = Math.max(1, Math.floor(spec.persons * foundingShare));
  const newcomers = Math.max(1, spec.persons - founders);
  // Persons eligible by the end of this day: the founders and the newcomers arrived so far.
  const eligible = Math.min(spec.persons, founders + Math.ceil((newcomers * (d + 1)) / spec.days));
  const surgeFrom = spec.endMs - surgeMs;
  const artist = `'artist-', toString(artist)`;
  const show = `'show-', toString(artist), '-', toString(h % 4)`;
  const song = `'song-', toString(artist), '-', toString(h % 12)`;
  const genre = `${list(genres)}[1 + artist % ${genres.length}]`;
  const props = `multiIf(
      type = 'song.play', concat('{"artistId":"', ${artist}, '","genre":"', ${genre}, '","songId":"', ${song}, '","ms":', toString(90000 + h % 240000), '}'),
      type = 'show.view', concat('{"showId":"', ${show}, '","artistId":"', ${artist}, '","genre":"', ${genre}, '"}'),
      type = 'vote.cast', concat('{"showId":"', ${show}, '","songId":"', ${song}, '","artistId":"', ${artist}, '","choice":"', if(h % 7 = 0, 'no', 'yes'), '"}'),
      type = 'artist.follow', concat('{"artistId":"', ${artist}, '","genre":"', ${genre}, '"}'),
      type = 'ticket.purchase', concat('{"showId":"', ${show}, '","artistId":"', ${artist}, '","genre":"', ${genre}, '","price":', toString(20 + h % 100), '}'),
      type = 'page.view', concat('{"path":"', ${list(paths)}[1 + h % ${paths.length}], '","loadMs":', toString(80 + h % 900), '}'),
      type = 'search', concat('{"query":"', ${genre}, '"}'),
      '{}')`;
  // Who sends each event, worked out once per row in the inner query: every later
  // expression reads `person` as a column (as an alias substituted into each of them, the
  // churn's arithmetic made the demo's 300,000-event seed 17.4 s instead of 10.2 s).
  const senders = `SELECT number, ts_ms, if(gone, drawn - 1, drawn) AS person
    FROM (SELECT number,
      toInt64(${day.startMs} + cityHash64(number, 6) % ${dayMs}) AS ts_ms,
      toUInt32(if(${uniform(1)} < 0.5,
        ${eligible} - 1 - floor(${eligible} * pow(${uniform(2)}, 3)),
        floor(${eligible} * pow(${uniform(2)}, 2)))) AS drawn,
      toInt64(${startMs} + intDiv(greatest(0, toInt64(drawn) - ${founders}) * ${spec.days * dayMs}, ${newcomers})) AS arrival_ms,
      arrival_ms + ${7 * dayMs} + toInt64((cityHash64(drawn, 9) % 1024) * (${spec.endMs + staysAfterEndMs - 7 * dayMs} - arrival_ms) / 1024) AS leave_ms,
      drawn % 4 = 1 AND (ts_ms >= leave_ms
        OR (ts_ms >= leave_ms - ${taperMs} AND ${uniform(10)} >= 0.25 + 0.75 * (leave_ms - ts_ms) / ${taperMs})) AS gone
      FROM numbers(${day.first}, ${day.count}))`;
  return `INSERT INTO events
      (project, type, ts, client_ts, sent_at, received_at, id, user_id, anonymous_id, session_id, props)
    WITH cityHash64(number, 5) AS h,
      person >= ${founders} AND person % 5 = 4 AS never_signs_up,
      toInt64(${startMs} + intDiv((toInt64(person) - ${founders}) * ${spec.days * dayMs}, ${newcomers})
        + cityHash64(person, 7) % 43200000) AS signup_ms,
      person >= ${founders} AND (never_signs_up OR ts_ms < signup_ms) AS anonymous,
      ${uniform(3)} AS r,
      multiIf(r < 0.45, 'song.play', r < 0.65, 'page.view', r < 0.77, 'show.view',
        r < 0.89, 'vote.cast', r < 0.93, 'artist.follow', r < 0.95, 'ticket.purchase',
        r < 0.96, 'search', anonymous, 'page.view', 'identify') AS type,
      toUInt32(if(ts_ms >= ${surgeFrom} AND ${uniform(8)} < 0.3 * (ts_ms - ${surgeFrom}) / ${surgeMs},
        ${trendingArtist.slice('artist-'.length)},
        floor(${artists} * pow(${uniform(4)}, 2)))) AS artist
    SELECT ${quote(spec.project)}, type, fromUnixTimestamp64Milli(ts_ms, 'UTC') AS t, t AS client_t, NULL, t AS received_t,
      concat(${quote(spec.idPrefix)}, toString(number)),
      if(anonymous, '', concat('fan-', toString(person))),
      if(anonymous OR type = 'identify' OR (person >= ${founders} AND ts_ms < signup_ms + ${dayMs}),
        concat('anon-', toString(person)), ''),
      concat('s', toString(person), '-', toString(intDiv(ts_ms, 1800000))),
      ${props}
    FROM (${senders})`;
}
