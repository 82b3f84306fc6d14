import { describe, expect, it } from 'vitest';
import { createEmailRateLimit } from '../../../../src/notify/channels/email/rate-limit.js';

describe('email rate limit', () => {
  it('queues waiting senders behind each other instead of letting them all go at once', () => {
    let t = 0;
    const limit = createEmailRateLimit({ perSecond: 10, burst: 2 }, () => t);
    expect([limit.reserve(), limit.reserve(), limit.reserve(), limit.reserve()]).toEqual([
      0, 0, 100, 200,
    ]);
    limit.release(); // the last one gave up its turn: the next one takes it
    expect(limit.reserve()).toBe(200);
    t += 1000; // ten tokens later, the three reserved are paid and the bucket holds its burst
    expect([limit.reserve(), limit.reserve(), limit.reserve()]).toEqual([0, 0, 100]);
  });
});
