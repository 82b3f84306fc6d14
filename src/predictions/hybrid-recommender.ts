import type { Neighbour } from './item-neighbours.js';

/** One recommended item: its blended score, both parts, and the held item that led to it. */
export interface Recommendation {
  item: string;
  score: number;
  collaborative: number;
  content: number;
  /** The person's item that contributed most ('' for a trending item). */
  because: string;
}

export interface RecommendOptions {
  /** Items answered. */
  limit: number;
  /** Weight of co-occurrence against content similarity, 0 to 1. */
  blend: number;
}

interface Tally {
  collaborative: number;
  content: number;
  best: number;
  because: string;
}

/**
 * A person's recommendations, hybrid: each candidate near one of the person's items scores the
 * sum of its co-occurrence similarities to them and the sum of its content similarities, each
 * scaled to the best candidate's, blended by `blend`. Items the person has are never answered.
 * Fewer candidates than `limit` (a person with few or no items, a fresh person) are topped up
 * from `trending`, the fallback.
 *
 * @example
 * recommend(neighbours, ['show-1'], ['show-9', 'show-2'], { limit: 10, blend: 0.6 });
 */
export function recommend(
  neighbours: (item: string) => readonly Neighbour[] | undefined,
  has: readonly string[],
  trending: readonly string[],
  options: RecommendOptions,
): Recommendation[] {
  const held = new Set(has);
  const tallies = new Map<string, Tally>();
  for (const item of held) {
    for (const n of neighbours(item) ?? []) {
      if (held.has(n.item)) continue;
      const t = tallies.get(n.item) ?? { collaborative: 0, content: 0, best: -1, because: '' };
      tallies.set(n.item, t);
      t.collaborative += n.collaborative;
      t.content += n.content;
      const part = options.blend * n.collaborative + (1 - options.blend) * n.content;
      if (part > t.best) Object.assign(t, { best: part, because: item });
    }
  }
  let maxCo = 0;
  let maxContent = 0;
  for (const t of tallies.values()) {
    maxCo = Math.max(maxCo, t.collaborative);
    maxContent = Math.max(maxContent, t.content);
  }
  // Trending order breaks ties, so equal candidates come out the same way every run.
  const rank = new Map(trending.map((item, i) => [item, i]));
  const tiebreak = (item: string) => 1e-6 / (1 + (rank.get(item) ?? trending.length));
  const scored = [...tallies].map(([item, t]): Recommendation => {
    const collaborative = maxCo > 0 ? t.collaborative / maxCo : 0;
    const content = maxContent > 0 ? t.content / maxContent : 0;
    const score = options.blend * collaborative + (1 - options.blend) * content + tiebreak(item);
    return { item, score, collaborative, content, because: t.because };
  });
  const best = scored.sort((a, b) => b.score - a.score).slice(0, options.limit);
  for (const item of trending) {
    if (best.length >= options.limit) break;
    if (held.has(item) || tallies.has(item)) continue;
    best.push({ item, score: 0, collaborative: 0, content: 0, because: '' });
  }
  return best;
}

/** Items by how many persons took them up, most first (ties by name, for stable answers). */
export function byPopularity(counts: ReadonlyMap<string, number>): string[] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([item]) => item);
}
