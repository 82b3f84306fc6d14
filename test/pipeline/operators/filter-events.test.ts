import { describe, it } from 'vitest';
import { filterEvents } from '../../../src/pipeline/operators/filter-events.js';
import type { StreamEvent } from '../../../src/model/event.js';
import { event, marbles } from '../stream-fixtures.js';

describe('filterEvents', () => {
  it('keeps the matching events of each frame and drops frames left empty', () => {
    const vote = event(1, { showId: 's1' });
    const view = event(2, {}, { type: 'page.view' });
    const otherVote = event(3, { showId: 's2' });
    marbles().run(({ cold, expectObservable }) => {
      const frames = cold('a b c |', { a: [vote, view], b: [view], c: [otherVote] });
      const votes = frames.pipe(filterEvents((e) => e.type === 'vote.cast'));
      expectObservable(votes).toBe('a - c |', { a: [vote], c: [otherVote] });
    });
  });

  it('passes errors through', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold<StreamEvent[]>('#').pipe(filterEvents(() => true))).toBe('#');
    });
  });
});
