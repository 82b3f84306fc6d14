import { describe, expect, it } from 'vitest';
import { campaignSpecSchema } from '../../src/campaigns/campaign-spec.js';
import { createSendTimes, localInstant } from '../../src/campaigns/send-times.js';

const spec = (fields: object) =>
  campaignSpecSchema.parse({
    name: 'c',
    audience: { kind: 'list', users: ['a'] },
    notification: { category: 'news', title: 't', body: 'b' },
    ...fields,
  });

const hour = 3_600_000;

describe('localInstant', () => {
  it('reads a wall-clock time in the zone, daylight saving time included', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    // Berlin is UTC+1 in March before the switch (29 March 2026) and UTC+2 after it.
    expect(localInstant('2026-03-28T09:00', 'Europe/Berlin', now)).toBe(
      Date.parse('2026-03-28T08:00:00Z'),
    );
    expect(localInstant('2026-03-30T09:00', 'Europe/Berlin', now)).toBe(
      Date.parse('2026-03-30T07:00:00Z'),
    );
    expect(localInstant('2026-06-01T09:30', 'Asia/Kolkata', now)).toBe(
      Date.parse('2026-06-01T04:00:00Z'),
    );
  });

  it('moves a time already passed in the zone to the same time the next day', () => {
    const now = Date.parse('2026-06-01T05:00:00Z'); // 14:00 in Tokyo, 22:00 in Phoenix the day before
    expect(localInstant('2026-06-01T09:00', 'Asia/Tokyo', now)).toBe(
      Date.parse('2026-06-02T00:00:00Z'),
    );
    expect(localInstant('2026-06-01T09:00', 'America/Phoenix', now)).toBe(
      Date.parse('2026-06-01T16:00:00Z'),
    );
  });
});

describe('createSendTimes', () => {
  const zones = { timeZoneOf: async (_p: string, user: string) => user };
  const now = Date.parse('2026-06-01T00:00:00Z');

  it('starts now, at an instant, or when the earliest zone reaches a local time', () => {
    const times = createSendTimes({ zones });
    expect(times.startAt(spec({}), now)).toBe(now);
    expect(times.startAt(spec({ sendAt: now + hour }), now)).toBe(now + hour);
    expect(times.startAt(spec({ sendAt: '2026-06-01T03:00:00+02:00' }), now)).toBe(now + hour);
    expect(times.startAt(spec({ sendAt: now - hour }), now)).toBe(now);
    const local = spec({ sendAt: '2026-06-02T09:00', localTime: true });
    // 09:00 on 2 June reaches UTC+14 at 19:00 UTC on 1 June.
    expect(times.startAt(local, now)).toBe(Date.parse('2026-06-01T19:00:00Z'));
  });

  it('plans each recipient in their own zone', async () => {
    const times = createSendTimes({ zones });
    const local = spec({ sendAt: '2026-06-02T09:00', localTime: true });
    expect(await times.plan('dev', local, ['Asia/Tokyo', 'UTC'], now)).toEqual([
      Date.parse('2026-06-02T00:00:00Z'),
      Date.parse('2026-06-02T09:00:00Z'),
    ]);
  });

  it('plans "best" within each recipient’s hour, the project’s for those without one', async () => {
    const hours = {
      bestHours: async () => ({ users: new Map([['owl', { hour: 3 }]]), projectHour: 17 }),
    };
    const times = createSendTimes({ zones, hours });
    const [owl, lark] = await times.plan('dev', spec({ sendAt: 'best' }), ['owl', 'lark'], now);
    expect(owl).toBeGreaterThanOrEqual(now + 3 * hour);
    expect(owl).toBeLessThan(now + 4 * hour);
    expect(lark).toBeGreaterThanOrEqual(now + 17 * hour);
    expect(lark).toBeLessThan(now + 18 * hour);
    // The same minute for the same user every time.
    expect(await times.plan('dev', spec({ sendAt: 'best' }), ['owl'], now)).toEqual([owl]);
  });
});
