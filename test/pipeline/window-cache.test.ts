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
