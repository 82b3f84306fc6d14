import { expect, it } from 'vitest';
import { bucketQuantile } from '../../../src/transport/http/overview.js';

// Cumulative buckets in seconds, as `backline_ingest_ack_seconds` holds them.
const buckets = (...pairs: Array<[number, number]>) => pairs;

it('interpolates within the bucket that holds the rank, as histogram_quantile does', () => {
  // 10 observations: 4 up to 5 ms, 4 more up to 10 ms, 2 more up to 25 ms.
  const ack = buckets([0.005, 4], [0.01, 8], [0.025, 10], [Infinity, 10]);
  expect(bucketQuantile(ack, 0.5)).toBeCloseTo(0.005 + 0.005 * (1 / 4), 9);
  expect(bucketQuantile(ack, 0.2)).toBeCloseTo(0.0025, 9);
  expect(bucketQuantile(ack, 0.99)).toBeCloseTo(0.01 + 0.015 * (1.9 / 2), 9);
  expect(bucketQuantile(ack, 1)).toBeCloseTo(0.025, 9);
});

it('skips empty buckets and answers the highest bound past it', () => {
  expect(bucketQuantile(buckets([0.005, 0], [0.01, 0], [0.025, 2], [Infinity, 2]), 0.5)).toBe(
    0.0175,
  );
  expect(bucketQuantile(buckets([0.005, 1], [10, 1], [Infinity, 5]), 0.99)).toBe(10);
});

it('has no quantile for an empty histogram', () => {
  expect(bucketQuantile([], 0.5)).toBeUndefined();
  expect(bucketQuantile(buckets([0.005, 0], [Infinity, 0]), 0.5)).toBeUndefined();
});
