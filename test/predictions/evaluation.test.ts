import { describe, expect, it } from 'vitest';
import { hitsAt, meanAbsoluteError, rocAuc } from '../../src/predictions/evaluation.js';

describe('evaluation figures', () => {
  it('counts precision and recall in the first k items only', () => {
    const relevant = new Set(['a', 'c', 'z']);
    expect(hitsAt(['a', 'b', 'c', 'z'], relevant, 2)).toEqual({ precision: 0.5, recall: 1 / 3 });
    expect(hitsAt(['a', 'b', 'c', 'z'], relevant, 4)).toEqual({ precision: 0.75, recall: 1 });
  });

  it('AUC: 1 for a perfect ranking, 0 for a reversed one, ties count half', () => {
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [true, true, false, false])).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [true, true, false, false])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [true, false, true, false])).toBe(0.5);
    // One positive above both negatives, one between them: 3 of 4 pairs ordered.
    expect(rocAuc([0.9, 0.5, 0.6, 0.1], [true, true, false, false])).toBe(0.75);
  });

  it('AUC of a single class is 0.5, not a division by zero', () => {
    expect(rocAuc([0.3, 0.4], [true, true])).toBe(0.5);
  });

  it('mean absolute error', () => {
    expect(meanAbsoluteError([1, 2, 3], [2, 2, 5])).toBe(1);
  });
});
