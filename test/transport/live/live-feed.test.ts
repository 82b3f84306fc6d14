import { describe, expect, it } from 'vitest';
import type { WindowResult } from '../../../src/model/window-result.js';
import {
  createLiveFeed,
  type FeedCursor,
  type LiveFeed,
} from '../../../src/transport/live/live-feed.js';

const update = (start: number, key: string, rev: number, final = false): WindowResult => ({
  stream: 's',
  start,
  end: start + 1000,
  key,
  values: { n: rev },
  final,
  rev,
});

const push = (feed: LiveFeed, result: WindowResult) =>
  feed.push(`${result.start}/${result.key}`, result, new Map());

/** Everything the cursor has yet to read, as `key@rev`. */
function drain(feed: LiveFeed, cursor: FeedCursor): string[] {
  const read: string[] = [];
  for (let entry = feed.take(cursor); entry; entry = feed.take(cursor))
    read.push(`${entry.result!.key}@${entry.result!.rev}${entry.result!.final ? '!' : ''}`);
  return read;
}

describe('live feed', () => {
  it('gives a follower the latest update of each window, in the order they last changed', () => {
    const feed = createLiveFeed(100);
    const cursor = feed.follow();
    push(feed, update(0, 'a', 1));
    push(feed, update(0, 'b', 1));
    expect(push(feed, update(0, 'a', 2))).toEqual({ coalesced: true, dropped: false });
    push(feed, update(0, 'b', 2, true));
    expect(feed.size).toBe(2);
    expect(drain(feed, cursor)).toEqual(['a@2', 'b@2!']);
    expect(feed.caughtUp(cursor)).toBe(true);
  });

  it('starts a new follower after what the feed already holds', () => {
    const feed = createLiveFeed(100);
    push(feed, update(0, 'a', 1));
    const cursor = feed.follow();
    expect(feed.caughtUp(cursor)).toBe(true);
    push(feed, update(0, 'b', 1));
    push(feed, update(0, 'a', 2));
    expect(drain(feed, cursor)).toEqual(['b@1', 'a@2']);
  });

  it('keeps each follower where it is, whatever the others read', () => {
    const feed = createLiveFeed(100);
    const ahead = feed.follow();
    const behind = feed.follow();
    push(feed, update(0, 'a', 1));
    push(feed, update(0, 'b', 1));
    expect(drain(feed, ahead)).toEqual(['a@1', 'b@1']);
    // `ahead` stands on b@1, which this replaces: it still gets the new update, once.
    push(feed, update(0, 'b', 2));
    push(feed, update(0, 'c', 1));
    expect(drain(feed, ahead)).toEqual(['b@2', 'c@1']);
    expect(drain(feed, behind)).toEqual(['a@1', 'b@2', 'c@1']);
  });

  it('past its bound drops the oldest early update first, then the oldest final', () => {
    const feed = createLiveFeed(3);
    const cursor = feed.follow();
    push(feed, update(0, 'f1', 1, true));
    push(feed, update(0, 'e1', 1));
    push(feed, update(0, 'e2', 1));
    expect(push(feed, update(0, 'f2', 1, true))).toEqual({ coalesced: false, dropped: true });
    expect(push(feed, update(0, 'f3', 1, true))).toEqual({ coalesced: false, dropped: true });
    expect(feed.size).toBe(3);
    expect(drain(feed, cursor)).toEqual(['f1@1!', 'f2@1!', 'f3@1!']);
    push(feed, update(0, 'f4', 1, true));
    expect(drain(feed, cursor)).toEqual(['f4@1!']);
    expect(feed.size).toBe(3);
  });

  it('leads a follower that stood on dropped updates on to the ones after them', () => {
    const feed = createLiveFeed(2);
    const reader = feed.follow();
    const stalled = feed.follow();
    push(feed, update(0, 'a', 1));
    push(feed, update(0, 'b', 1));
    expect(drain(feed, reader)).toEqual(['a@1', 'b@1']);
    // a@1 and b@1 leave for c and d; the reader stood on b@1.
    push(feed, update(0, 'c', 1));
    push(feed, update(0, 'd', 1));
    expect(drain(feed, reader)).toEqual(['c@1', 'd@1']);
    expect(drain(feed, stalled)).toEqual(['c@1', 'd@1']);
  });

  it('serves any number of followers from one bounded feed', () => {
    const feed = createLiveFeed(1000);
    const cursors = Array.from({ length: 10_000 }, () => feed.follow());
    for (let i = 0; i < 5000; i++) push(feed, update(Math.floor(i / 2000), `k${i % 2000}`, 1));
    expect(feed.size).toBe(1000);
    // Each follower reads the same 1,000 windows, oldest first.
    expect(drain(feed, cursors[0]!)).toHaveLength(1000);
    expect(drain(feed, cursors[9999]!)[0]).toBe('k0@1');
  });
});
