import type { Identity, Props } from '../client/index.js';

/** One synthetic event, before the client gives it an id and timestamps. */
export interface DemoEvent {
  type: string;
  props: Props;
  identity: Identity;
}

/** The four shows voted on tonight, the first the busiest (about half of the votes). */
export const shows = ['show-berlin', 'show-lisbon', 'show-oslo', 'show-austin'];
/** Artist ids and the names notifications show. */
export const artists: Record<string, string> = {
  'the-driftwood': 'The Driftwood',
  'nova-lane': 'Nova Lane',
  'echo-harbor': 'Echo Harbor',
  'paper-satellites': 'Paper Satellites',
};
const artistIds = Object.keys(artists);
const venues = ['Columbiahalle, Berlin', 'Coliseu, Lisbon', 'Rockefeller, Oslo', "Stubb's, Austin"];
const paths = ['/', '/shows', '/shows/:id', '/artists/:id', '/setlists/:id', '/search'];
const fans = 300;
const songs = 30;

/**
 * Traffic of the live-music app backline grew out of, in the proportions a show night has:
 * mostly page views (with `loadMs`), votes on songs of a few shows (skewed towards favourites),
 * some follows and unfollows of artists, and now and then a newly scheduled show. Feeds the
 * dev project's example streams (`votes_per_show`, `active_users`, `page_load`, `top_songs`)
 * and rules (`show_reminder` keeps its followers from the follows, `hot_show` watches votes).
 *
 * @example
 * const next = liveMusicEvents();
 * const { type, props, identity } = next(); // e.g. 'vote.cast', { showId, songId, choice }
 * client.track(type, props, identity);
 */
export function liveMusicEvents(random: () => number = Math.random): () => DemoEvent {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  // Squaring a uniform number favours small indexes: a few songs get most of the votes.
  const skewed = (n: number) => Math.floor(random() ** 2 * n);

  return (): DemoEvent => {
    const fan = skewed(fans);
    const identity = { userId: `fan-${fan}`, sessionId: `session-${fan}` };
    const roll = random();
    if (roll < 0.55) {
      // Log-normal around 300 ms with a long tail, as page loads are.
      const loadMs = Math.round(Math.exp(5.7 + 0.5 * gaussian(random)));
      return { type: 'page.view', props: { path: pick(paths), loadMs }, identity };
    }
    if (roll < 0.9) {
      const props = {
        showId: shows[skewed(shows.length)]!,
        songId: `song-${skewed(songs) + 1}`,
        choice: random() < 0.85 ? 'yes' : 'no',
      };
      return { type: 'vote.cast', props, identity };
    }
    if (roll < 0.96)
      return { type: 'artist.follow', props: { artistId: pick(artistIds) }, identity };
    if (roll < 0.98)
      return { type: 'artist.unfollow', props: { artistId: pick(artistIds) }, identity };
    const startsAt = Date.now() + Math.round(1 + random() * 60) * 86_400_000;
    const showId = `show-${Math.floor(random() * 1e6)}`;
    return {
      type: 'show.scheduled',
      props: showProps(showId, pick(artistIds), startsAt, pick(venues)),
      identity: {},
    };
  };
}

/** What a `show.scheduled` event says: `show_reminder` reads `startsAt`, names and venue. */
export function showProps(
  showId: string,
  artistId: string,
  startsAt: number,
  venue: string,
): Props {
  return { showId, artistId, artistName: artists[artistId] ?? artistId, venue, startsAt };
}

/** A standard normal sample (Box–Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
