/** One item near another: by co-occurrence (cosine) and by content (shared attributes). */
export interface Neighbour {
  item: string;
  collaborative: number;
  content: number;
}

export const defaultNeighbourOptions = {
  neighbours: 30, // kept per item, by each measure
  itemsPerPerson: 300, // a person's items counted in co-occurrence (the cost is its square)
  itemsPerValue: 200, // the most popular items of one attribute value compared by content
};

const bump = (map: Map<string, number>, key: string, by = 1) =>
  map.set(key, (map.get(key) ?? 0) + by);

function top<T>(entries: T[], score: (t: T) => number, n: number): T[] {
  return entries.sort((a, b) => score(b) - score(a)).slice(0, n);
}

/**
 * Item-item co-occurrence: for each item, the items most often had by the same persons, scored
 * by cosine similarity `co(i, j) / sqrt(n(i) · n(j))` so a popular item is not everyone's
 * neighbour.
 */
export function coOccurrence(
  holdings: Iterable<readonly string[]>,
  options: Pick<typeof defaultNeighbourOptions, 'neighbours' | 'itemsPerPerson'>,
): Map<string, Map<string, number>> {
  const counts = new Map<string, number>();
  const pairs = new Map<string, Map<string, number>>();
  for (const all of holdings) {
    const items = all.slice(0, options.itemsPerPerson);
    for (const i of items) bump(counts, i);
    for (const i of items) {
      let row = pairs.get(i);
      if (!row) pairs.set(i, (row = new Map()));
      for (const j of items) if (j !== i) bump(row, j);
    }
  }
  const result = new Map<string, Map<string, number>>();
  for (const [i, row] of pairs) {
    const scored = [...row].map(([j, co]) => [j, co / Math.sqrt(counts.get(i)! * counts.get(j)!)]);
    result.set(i, new Map(top(scored as [string, number][], (e) => e[1], options.neighbours)));
  }
  return result;
}

/**
 * Content similarity: the share of attributes (artist, genre…) two items have equal and known.
 * Candidates are the most popular items sharing at least one attribute value, so a large genre
 * costs `itemsPerValue` comparisons, not all its items.
 */
export function contentNeighbours(
  attributes: ReadonlyMap<string, readonly string[]>,
  popularity: ReadonlyMap<string, number>,
  options: Pick<typeof defaultNeighbourOptions, 'neighbours' | 'itemsPerValue'>,
): Map<string, Map<string, number>> {
  const byValue = new Map<string, string[]>();
  for (const [item, values] of attributes)
    values.forEach((v, a) => {
      if (v === '') return;
      const key = `${a}\u0000${v}`;
      const list = byValue.get(key) ?? [];
      byValue.set(key, list);
      list.push(item);
    });
  for (const [key, list] of byValue)
    byValue.set(
      key,
      top(list, (i) => popularity.get(i) ?? 0, options.itemsPerValue),
    );
  const result = new Map<string, Map<string, number>>();
  for (const [item, values] of attributes) {
    const shared = new Map<string, number>();
    values.forEach((v, a) => {
      for (const other of byValue.get(`${a}\u0000${v}`) ?? [])
        if (other !== item) bump(shared, other);
    });
    const scored = [...shared].map(([j, n]): [string, number] => [j, n / values.length]);
    const best = top(scored, (e) => e[1] + (popularity.get(e[0]) ?? 0) * 1e-9, options.neighbours);
    result.set(item, new Map(best));
  }
  return result;
}

/** Both measures of each item's neighbours, merged into one list per item. */
export function itemNeighbours(
  holdings: ReadonlyMap<string, readonly string[]>,
  attributes: ReadonlyMap<string, readonly string[]>,
  popularity: ReadonlyMap<string, number>,
  options: Partial<typeof defaultNeighbourOptions> = {},
): Map<string, Neighbour[]> {
  const opts = { ...defaultNeighbourOptions, ...options };
  const co = coOccurrence(holdings.values(), opts);
  const content = contentNeighbours(attributes, popularity, opts);
  const result = new Map<string, Neighbour[]>();
  for (const item of new Set([...co.keys(), ...content.keys()])) {
    const a = co.get(item) ?? new Map<string, number>();
    const b = content.get(item) ?? new Map<string, number>();
    const near = [...new Set([...a.keys(), ...b.keys()])].map((j) => ({
      item: j,
      collaborative: a.get(j) ?? 0,
      content: b.get(j) ?? 0,
    }));
    result.set(item, near);
  }
  return result;
}
