import { getJson, type EventStats } from './analytics-api.js';
import { createFunnelsView } from './funnels-view.js';
import { createModelsView } from './models-view.js';
import { createProfileView } from './profile-view.js';
import { createRetentionView } from './retention-view.js';
import { createTrendingView } from './trending-view.js';
import { createTrendsView } from './trends-view.js';

export const analyticsViews = [
  'trends',
  'funnels',
  'retention',
  'trending',
  'profile',
  'models',
] as const;
export type AnalyticsView = (typeof analyticsViews)[number];

const typesSpanMs = 90 * 24 * 3600_000; // the event types offered: those of the last 90 days
const typesKeptMs = 60_000; // asked again after this, so new types show up

/**
 * The product analytics pages (one file each): trends, funnels, retention, trending, a
 * person's profile and the models' evaluations, each in its own section of the page. Only the shown one asks the server;
 * they share the project's event types (`GET /v1/events/stats`, most frequent first) for
 * their pickers.
 *
 * @example
 * const pages = createAnalyticsPages(remember);
 * await pages.show('trends', key);
 */
export function createAnalyticsPages(changed: () => void) {
  const section = (id: string) => document.getElementById(id)!;
  const trends = createTrendsView(section('trends'));
  const funnels = createFunnelsView(section('funnels'));
  const retention = createRetentionView(section('retention'));
  const trending = createTrendingView(section('trending'));
  const profile = createProfileView(section('profile'), changed);
  const models = createModelsView(section('models'));
  let types: { key: string; at: number; list: Promise<string[]> } | undefined;

  function typesOf(key: string): Promise<string[]> {
    if (!types || types.key !== key || types.at < Date.now() - typesKeptMs)
      types = { key, at: Date.now(), list: fetchTypes(key) };
    return types.list;
  }

  return {
    /** Shows `view` (none: hides them all) for `key`; a page shown again asks again. */
    async show(view: AnalyticsView | undefined, key: string, person?: string): Promise<void> {
      for (const name of analyticsViews) section(name).hidden = name !== view;
      if (view !== 'trending') trending.close();
      if (!view) return;
      const known = await typesOf(key);
      if (view === 'trends') trends.open(key, known);
      else if (view === 'funnels') funnels.open(key, known);
      else if (view === 'retention') retention.open(key, known);
      else if (view === 'trending') trending.open(key, known);
      else if (view === 'models') await models.open(key);
      else profile.open(key, person);
    },
    /** The person the profile page shows, for the page's URL. */
    get person(): string {
      return profile.person;
    },
    resize: trends.resize,
  };
}

/** The project's event types, most frequent first; none when refused (the page tells why). */
async function fetchTypes(key: string): Promise<string[]> {
  const now = Date.now();
  try {
    const stats = await getJson<EventStats>('/v1/events/stats', key, {
      from: now - typesSpanMs,
      to: now + 3600_000,
    });
    return [...stats.types]
      .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1))
      .map((t) => t.type);
  } catch {
    return [];
  }
}
