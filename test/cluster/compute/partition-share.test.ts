import { describe, expect, it } from 'vitest';
import { fairShare, wantsPartition } from '../../../src/cluster/compute/partition-share.js';

/** Holders for `counts` (node → partitions held, in order), then `free` partitions with no holder. */
const holders = (counts: Record<string, number>, free = 0) => [
  ...Object.entries(counts).flatMap(([node, n]) => Array.from({ length: n }, () => node)),
  ...Array.from({ length: free }, () => undefined),
];
const live = ['a', 'b', 'c'];

describe('fairShare', () => {
  it('bounds 16 partitions over 3 nodes by 5 and 6 and leaves 6/5/5 alone', () => {
    const sample = { live, holders: holders({ a: 6, b: 5, c: 5 }) };
    for (const [me, mine] of [
      ['a', 6],
      ['b', 5],
      ['c', 5],
    ] as const)
      expect(fairShare(sample, me, mine)).toEqual({ lo: 5, hi: 6, othersBelow: false, excess: 0 });
  });

  it('hands over to a node that joined, split between the nodes over their share', () => {
    const sample = { live, holders: holders({ a: 8, b: 8 }) };
    expect(fairShare(sample, 'a', 8)).toMatchObject({ othersBelow: true, excess: 3 });
    expect(fairShare(sample, 'b', 8)).toMatchObject({ othersBelow: true, excess: 3 });
    // The joined node takes what they hand over, up to 6: 5/5/6.
    expect(fairShare(sample, 'c', 0)).toMatchObject({ lo: 5, hi: 6, excess: 0 });
  });

  it('counts free partitions and those of dead holders as going to the nodes below their share', () => {
    const withFree = { live, holders: holders({ a: 8, b: 5, c: 1 }, 2) };
    expect(fairShare(withFree, 'a', 8).excess).toBe(2); // c lacks 4, 2 are free
    const dead = { live, holders: holders({ a: 8, b: 5, c: 1, x: 2 }) }; // x is not live
    expect(fairShare(dead, 'a', 8).excess).toBe(2);
  });

  it('does not hand over for a difference of one (6/6/4 is not 5/5/6, but 6/6/4 moves)', () => {
    expect(fairShare({ live, holders: holders({ a: 6, b: 6, c: 4 }) }, 'a', 6).excess).toBe(1);
    const twoNodes = { live: ['a', 'b'], holders: holders({ a: 9, b: 7 }) };
    expect(fairShare(twoNodes, 'a', 9)).toEqual({ lo: 8, hi: 8, othersBelow: true, excess: 1 });
    const even = { live: ['a', 'b'], holders: holders({ a: 8, b: 8 }) };
    expect(fairShare(even, 'a', 8).excess).toBe(0);
  });

  it('takes every partition alone', () => {
    expect(fairShare({ live: ['a'], holders: holders({}, 16) }, 'a', 0)).toMatchObject({
      lo: 16,
      hi: 16,
    });
  });
});

describe('wantsPartition', () => {
  const share = { lo: 5, hi: 6, othersBelow: true, excess: 0 };
  it('wants one below the lower bound, never at the upper', () => {
    expect(wantsPartition(share, 4, false)).toBe(true);
    expect(wantsPartition({ ...share, othersBelow: false }, 6, true)).toBe(false);
  });
  it('leaves free partitions to a node below its share, until they have been free for the grace time', () => {
    expect(wantsPartition(share, 5, false)).toBe(false);
    expect(wantsPartition(share, 5, true)).toBe(true);
    expect(wantsPartition({ ...share, othersBelow: false }, 5, false)).toBe(true);
  });
});
