import { describe, expect, it, vi } from 'vitest';
import { configSchema } from '../../src/compose/config.js';
import { validateEvent } from '../../src/ingest/validate-event.js';

const limits = configSchema.parse({}).limits;
const now = 1_800_000_000_000;
const check = (event: unknown) => validateEvent(event, 'p', now, limits);

describe('validateEvent', () => {
  it('turns a valid event into a row', () => {
    const result = check({
      id: 'e1',
      type: 'vote.cast',
      ts: now - 5,
      userId: 'u1',
      sessionId: 's',
      props: { showId: 7 },
    });
    expect(result).toEqual({
      ok: true,
      props: { showId: 7 },
      row: {
        project: 'p',
        type: 'vote.cast',
        ts: now - 5,
        client_ts: now - 5,
        sent_at: null,
        received_at: now,
        id: 'e1',
        user_id: 'u1',
        anonymous_id: '',
        session_id: 's',
        props: '{"showId":7}',
      },
    });
  });

  it('corrects ts by the gap between sentAt and the receive time', () => {
    const result = check({ id: 'e', type: 't', ts: now - 3600_000 - 200, sentAt: now - 3600_000 });
    expect(result.ok && result.row.ts).toBe(now - 200);
    expect(result.ok && result.row.client_ts).toBe(now - 3600_000 - 200);
  });

  it.each([
    [{ type: 't', ts: now }, 'MISSING_FIELD'],
    [{ id: '', type: 't', ts: now }, 'MISSING_FIELD'],
    [{ id: 'e', ts: now }, 'MISSING_FIELD'],
    [{ id: 'e', type: 't' }, 'MISSING_FIELD'],
    [{ id: 1, type: 't', ts: now }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: '1' }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: Number.NaN }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: now, sentAt: 'x' }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: now, userId: 5 }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: now, props: [1] }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: now, props: { b: new Uint8Array(2) } }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: now, props: { f: () => 1 } }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: new Date(Number.NaN) }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: now, sentAt: new Date(Number.NaN) }, 'BAD_FIELD_TYPE'],
    [{ id: 'e', type: 't', ts: 2n ** 53n + 1n }, 'TS_OUT_OF_RANGE'],
    [{ id: 'e', type: 't', ts: now, sentAt: 2n ** 64n - 1n }, 'TS_OUT_OF_RANGE'],
    [{ id: '\ud800', type: 't', ts: now }, 'BAD_FIELD_TYPE'],
    [{ id: 'e'.repeat(129), type: 't', ts: now }, 'FIELD_TOO_LONG'],
    [{ id: 'e', type: 't', ts: now, props: { ['k'.repeat(129)]: 1 } }, 'FIELD_TOO_LONG'],
    [{ id: 'e', type: 't', ts: now, props: { s: 'x'.repeat(8193) } }, 'FIELD_TOO_LONG'],
    [{ id: 'e', type: 't', ts: now, props: { a: [[[[[1]]]]] } }, 'PROPS_TOO_DEEP'],
    [
      {
        id: 'e',
        type: 't',
        ts: now,
        props: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'x'.repeat(4000)])),
      },
      'PROPS_TOO_LARGE',
    ],
    [{ id: 'e', type: 't', ts: now + 3600_001 }, 'TS_OUT_OF_RANGE'],
    [{ id: 'e', type: 't', ts: now - 8 * 24 * 3600_000 }, 'TS_OUT_OF_RANGE'],
    [{ id: 'e', type: 't', ts: -5, sentAt: -5 }, 'TS_OUT_OF_RANGE'],
    [{ id: 'e', type: 't', ts: 1e16, sentAt: 1e16 }, 'TS_OUT_OF_RANGE'],
    [null, 'EVENT_NOT_A_MAP'],
    [[1], 'EVENT_NOT_A_MAP'],
  ])('rejects case %# with %s', (event, code) => {
    expect(check(event)).toMatchObject({ ok: false, code });
  });

  it('takes MessagePack timestamps (decoded to Dates) for ts and sentAt as epoch ms', () => {
    const result = check({
      id: 'e',
      type: 't',
      ts: new Date(now - 250),
      sentAt: new Date(now - 100),
    });
    expect(result.ok && result.row).toMatchObject({
      ts: now - 150,
      client_ts: now - 250,
      sent_at: now - 100,
    });
  });

  it('keeps props integers past ±2^53 exactly, as decimal strings', () => {
    const result = check({
      id: 'e',
      type: 't',
      ts: now,
      props: { order: 2n ** 64n - 1n, low: -(2n ** 63n), list: [1, 2n ** 60n], n: 2 ** 53 },
    });
    const expected = {
      order: '18446744073709551615',
      low: '-9223372036854775808',
      list: [1, '1152921504606846976'],
      n: 9007199254740992,
    };
    expect(result.ok && result.props).toEqual(expected);
    expect(result.ok && JSON.parse(result.row.props)).toEqual(expected);
  });

  it('refuses a props integer whose decimal form is longer than a props string', () => {
    const digits = (n: bigint) => check({ id: 'e', type: 't', ts: now, props: { n } });
    const longest = 10n ** BigInt(limits.maxStringLength) - 1n;
    const lowest = -(10n ** BigInt(limits.maxStringLength - 1) - 1n); // with its '-'
    expect(digits(longest).ok).toBe(true);
    expect(digits(lowest).ok).toBe(true);
    for (const n of [longest + 1n, lowest - 1n])
      expect(digits(n)).toMatchObject({ ok: false, code: 'FIELD_TOO_LONG' });
  });

  it('refuses a huge props integer without writing it out in decimal', () => {
    // msgpackr's bigint extension (0x42) carries integers of any size: writing a 1 MiB one in
    // decimal held the event loop for 3 s, only for the string to be refused as too long.
    const toString = vi.spyOn(BigInt.prototype, 'toString');
    try {
      for (const n of [1n << 8_000_000n, -(1n << 8_000_000n)]) {
        const result = check({ id: 'e', type: 't', ts: now, props: { list: [n], n } });
        expect(result).toMatchObject({ ok: false, code: 'FIELD_TOO_LONG' });
      }
      expect(toString).not.toHaveBeenCalled();
    } finally {
      toString.mockRestore();
    }
  });

  it('accepts props at the depth limit', () => {
    expect(check({ id: 'e', type: 't', ts: now, props: { a: { b: { c: { d: 1 } } } } }).ok).toBe(
      true,
    );
  });
});
