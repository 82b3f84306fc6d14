import { describe, expect, it } from 'vitest';
import { byPopularity, recommend } from '../../src/predictions/hybrid-recommender.js';
import { itemNeighbours } from '../../src/predictions/item-neighbours.js';

// Two taste groups: a, b, c go together; x, y, z go together. d shares a's artist, no one has it.
const holdings = new Map([
  ['p1', ['a', 'b', 'c']],
  ['p2', ['a', 'b']],
  ['p3', ['b', 'c']],
  ['p4', ['x', 'y', 'z']],
  ['p5', ['x', 'y']],
  ['p6', ['y', 'z', 'x']],
]);
const attributes = new Map([
  ['a', ['artist-1', 'rock']],
  ['b', ['artist-2', 'rock']],
  ['c', ['artist-3', 'rock']],
  ['d', ['artist-1', 'rock']],
  ['x', ['artist-7', 'jazz']],
  ['y', ['artist-8', 'jazz']],
  ['z', ['artist-9', 'jazz']],
]);
const popularity = new Map([
  ['a', 2],
  ['b', 3],
  ['c', 2],
  ['x', 3],
  ['y', 3],
  ['z', 2],
]);
const neighbours = itemNeighbours(holdings, attributes, popularity);
const trending = byPopularity(popularity);
const near = (item: string) => neighbours.get(item);

describe('hybrid recommender', () => {
  it('recommends what co-occurs with the person’s items, never what they have', () => {
    const recs = recommend(near, ['a'], trending, { limit: 3, blend: 1 });
    expect(
      recs
        .map((r) => r.item)
        .slice(0, 2)
        .sort(),
    ).toEqual(['b', 'c']);
    expect(recs.map((r) => r.item)).not.toContain('a');
    expect(recs[0]!.because).toBe('a');
  });

  it('finds an item no one took up by its content (same artist)', () => {
    const recs = recommend(near, ['a'], trending, { limit: 5, blend: 0 });
    expect(recs[0]!.item).toBe('d');
    expect(recs[0]!.content).toBe(1);
  });

  it('falls back to trending for a person with no items', () => {
    const recs = recommend(near, [], trending, { limit: 3, blend: 0.6 });
    expect(recs.map((r) => r.item)).toEqual(trending.slice(0, 3));
    expect(recs.every((r) => r.because === '')).toBe(true);
  });

  it('tops a short list up with trending items the person does not have', () => {
    const recs = recommend(near, ['x', 'y', 'z'], trending, { limit: 7, blend: 1 });
    // Nothing co-occurs with jazz or shares its content: the trending items they lack.
    expect(recs.map((r) => r.item)).toEqual(['b', 'a', 'c']);
  });
});
