import { expect, it } from 'vitest';
import type { WindowResult } from '../../src/model/window-result.js';
import { createWindowCache } from '../../src/pipeline/window-cache.js';

const result = (key: string, start: number, rev: number, final = false): WindowResult => ({
  stream: 'votes',
  start,
  end: start + 1000,
  key,
  values: { n: rev },
  final,
  rev,
});

it('answers the newest result seen of one window, for a new owner to adopt its rev', () => {
  const cache = createWindowCache();
  cache.sink.write('dev', [result('a', 0, 1), result('b', 0, 1)]);
  cache.sink.write('dev', [result('a', 0, 3, true)]);
  cache.sink.write('dev', [result('a', 0, 2)]); // an older revision arriving late changes nothing
  expect(cache.latest('dev', 'votes', 'a', 0)).toMatchObject({ rev: 3, final: true });
  expect(cache.latest('dev', 'votes', 'b', 0)).toMatchObject({ rev: 1, final: false });
  expect(cache.latest('dev', 'votes', 'a', 1000)).toBeUndefined();
  expect(cache.latest('other', 'votes', 'a', 0)).toBeUndefined();
});

it('keeps at most maxWindowsPerStream per stream, dropping the least recently updated', () => {
  const cache = createWindowCache({ maxWindowsPerStream: 100 });
  const write = (key: string, start: number, rev: number) =>
    cache.sink.write('dev', [result(key, start, rev)]);
  for (let i = 0; i < 100; i++) write(`k${i}`, 0, 1);
  write('k0', 0, 2); // updated: now the most recent
  for (let i = 100; i < 1000; i++) {
    write(`k${i}`, 0, 1);
    expect(cache.recent('dev', 'votes', 1).length).toBeLessThanOrEqual(100);
  }
  const kept = cache.recent('dev', 'votes', 1).map((w) => w.key);
  expect(kept.length).toBeGreaterThanOrEqual(90);
  expect(kept).toContain('k999');
  expect(kept).not.toContain('k1');
  // k0 was updated after k1..k99 were written, so it outlived them; the rest went in order.
  const numbers = kept.map((key) => Number(key.slice(1))).sort((a, b) => a - b);
  expect(numbers.slice(1)).toEqual(
    Array.from({ length: numbers.length - 1 }, (_, i) => 1000 - numbers.length + 1 + i),
  );
});
