import { describe, expect, it } from 'vitest';
import { serverList, serverListName, startIndex } from '../../src/client/server-list.js';

describe('client server list', () => {
  it('takes one URL or a list, and refuses an empty list', () => {
    expect(serverList('http://a:1')).toEqual(['http://a:1']);
    expect(serverList(['http://a:1', 'http://b:1'])).toEqual(['http://a:1', 'http://b:1']);
    expect(() => serverList([])).toThrow(/empty list/);
    expect(() => serverList(undefined)).toThrow(/no server URL/); // Node has no page origin
  });

  it('starts anywhere in the list, every node about equally often', () => {
    expect(startIndex(3, () => 0)).toBe(0);
    expect(startIndex(3, () => 0.5)).toBe(1);
    expect(startIndex(3, () => 0.9999)).toBe(2);
    const starts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) starts[startIndex(3)]! += 1;
    for (const n of starts) expect(n).toBeGreaterThan(800);
  });

  it('names storage slots by the set of servers: one URL as before, any order of a list alike', () => {
    expect(serverListName('http://a:1')).toBe('http://a:1');
    expect(serverListName(['http://a:1'])).toBe('http://a:1');
    expect(serverListName(undefined)).toBe('');
    expect(serverListName(['http://b:1', 'http://a:1'])).toBe(
      serverListName(['http://a:1', 'http://b:1']),
    );
  });
});
