import { describe, expect, it } from 'vitest';
import { createDedupWindow } from '../../src/ingest/dedup-window.js';

describe('createDedupWindow', () => {
  it('remembers ids per project', () => {
    const seen = createDedupWindow();
    seen.add('a', 'e1');
    expect(seen.has('a', 'e1')).toBe(true);
    expect(seen.has('b', 'e1')).toBe(false);
    seen.forget('a', 'e1');
    expect(seen.has('a', 'e1')).toBe(false);
  });

  it('keeps an id for at least the window and drops it within two', () => {
    let t = 0;
    const seen = createDedupWindow({ windowMs: 1000 }, () => t);
    seen.add('p', 'old');
    t = 999;
    seen.add('p', 'x');
    expect(seen.has('p', 'old')).toBe(true);
    t = 1500;
    seen.add('p', 'y'); // rotates: `old` moves to the older generation
    expect(seen.has('p', 'old')).toBe(true);
    t = 2600;
    seen.add('p', 'z'); // rotates again: `old` is gone
    expect(seen.has('p', 'old')).toBe(false);
    expect(seen.has('p', 'y')).toBe(true);
  });

  it('bounds memory by maxIds', () => {
    const seen = createDedupWindow({ maxIds: 100 });
    for (let i = 0; i < 10_000; i++) seen.add('p', String(i));
    expect(seen.size).toBeLessThanOrEqual(100);
    expect(seen.has('p', '9999')).toBe(true);
  });
});
