import { seeded } from './event-generator.js';
import { eventRows } from './event-rows.js';

export const dayMs = 86_400_000;

/**
 * Weekday activity multipliers, Monday first: the planted weekly seasonality (a weekend peak
 * at 1.6× a Thursday). `t0` must be a Monday for the index to be the weekday.
 */
export const weeklyProfile = [0.8, 0.85, 0.9, 1.0, 1.25, 1.6, 1.3];

export interface PredictionDataOptions {
  seed: number;
  project: string;
  /** The first day (a Monday, UTC midnight). */
  t0: number;
  days: number;
  users: number;
  genres?: number;
  artistsPerGenre?: number;
  showsPerArtist?: number;
  /** Share of users who churn at a day drawn within the span. */
  churnShare?: number;
}

export interface PlantedUser {
  id: string;
  genre: number;
  /** Indexes of their two favourite artists (both of their genre). */
  artists: number[];
  /** The day (from t0) of their last possible activity, or Infinity. */
  churnDay: number;
  /** Visits per day before seasonality and decline. */
  rate: number;
}

/**
 * A seeded music-app history with planted answers (README: Predictions, the evaluations):
 * - **Tastes.** Each user has a genre and two favourite artists in it. A visit that acts on a
 *   show (`vote.cast` or `show.follow`, props `showId`, `artistId`, `genre`) picks one of
 *   their artists' shows 55% of the time, a show of their genre 30%, and a show by overall
 *   popularity (Zipf-like) 15%. Every show is announced once by `show.scheduled`.
 * - **Churn.** `churnShare` of users stop at a day drawn uniformly over the span; in the 14
 *   days before, their visits fall linearly to a quarter and they stop opening notifications
 *   (`notification.open`). Users' visit rates are log-normal, so light users who stay look
 *   like leavers to recency alone.
 * - **Weekly seasonality.** Visits follow `weeklyProfile` by weekday; users join over the
 *   first 40% of the span.
 * Every visit is a session (`session_id`) with one to three `page.view`s. Events have
 * distinct milliseconds.
 */
export function generatePredictionData(options: PredictionDataOptions) {
  const random = seeded(options.seed);
  const genres = options.genres ?? 8;
  const perGenre = options.artistsPerGenre ?? 5;
  const perArtist = options.showsPerArtist ?? 6;
  const artists = genres * perGenre;
  const shows = Array.from({ length: artists * perArtist }, (_, i) => {
    const artist = Math.floor(i / perArtist);
    return { id: `show-${i}`, artist, genre: Math.floor(artist / perGenre) };
  });
  // Zipf-like popularity over a shuffled order, so popular shows are spread over genres.
  const weights = shows.map(() => 0);
  const order = shows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  order.forEach((show, rank) => (weights[show] = 1 / (rank + 3)));
  const total = weights.reduce((a, b) => a + b, 0);
  const byPopularity = () => {
    let x = random() * total;
    for (let i = 0; i < shows.length; i++) if ((x -= weights[i]!) <= 0) return shows[i]!;
    return shows[shows.length - 1]!;
  };
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;

  const { rows, add: addRow } = eventRows(options.project);
  const add = (type: string, at: number, user: string, session: string, props: object) =>
    addRow(type, at, { user, session }, props);
  for (const show of shows)
    add('show.scheduled', options.t0 + random() * dayMs, '', '', {
      showId: show.id,
      artistId: `artist-${show.artist}`,
      genre: `genre-${show.genre}`,
    });

  const users: PlantedUser[] = [];
  for (let u = 0; u < options.users; u++) {
    const genre = Math.floor(random() * genres);
    const first = genre * perGenre + Math.floor(random() * perGenre);
    const second =
      genre * perGenre +
      ((first - genre * perGenre + 1 + Math.floor(random() * (perGenre - 1))) % perGenre);
    const churns = random() < (options.churnShare ?? 0.35);
    const joined = Math.floor(random() * options.days * 0.4);
    const user: PlantedUser = {
      id: `user-${u}`,
      genre,
      artists: [first, second],
      churnDay: churns ? joined + 7 + random() * (options.days - joined - 7) : Infinity,
      rate: Math.exp(Math.log(0.6) + 0.7 * gaussian(random)),
    };
    users.push(user);
    const mine = shows.filter((s) => user.artists.includes(s.artist));
    const genreShows = shows.filter((s) => s.genre === genre);
    for (let d = joined; d < Math.min(options.days, user.churnDay); d++) {
      const toChurn = user.churnDay - d;
      const decline = toChurn < 14 ? 0.25 + 0.75 * (toChurn / 14) : 1;
      const expected = user.rate * weeklyProfile[d % 7]! * decline;
      const visits = poisson(random, expected);
      for (let v = 0; v < Math.min(visits, 6); v++) {
        let at = options.t0 + d * dayMs + random() * dayMs * 0.9;
        const session = `${user.id}-${d}-${v}`;
        const views = 1 + Math.floor(random() * 3);
        for (let k = 0; k < views; k++)
          add('page.view', (at += 1000), user.id, session, { path: '/' });
        if (random() < 0.6) {
          const roll = random();
          const show = roll < 0.55 ? pick(mine) : roll < 0.85 ? pick(genreShows) : byPopularity();
          const type = random() < 0.7 ? 'vote.cast' : 'show.follow';
          const props = {
            showId: show.id,
            artistId: `artist-${show.artist}`,
            genre: `genre-${show.genre}`,
          };
          add(type, (at += 1000), user.id, session, props);
        }
        const opens = toChurn < 14 ? 0.05 : 0.45;
        if (random() < opens) add('notification.open', at + 1000, user.id, session, {});
      }
    }
  }
  return { rows, users, shows };
}

function poisson(random: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k += 1;
    p *= random();
  }
  return k;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
