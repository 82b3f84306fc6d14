import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/compose/config.js';
import type { BacklineError } from '../../src/errors.js';
import { decodeBody, decodeMessage, parseEventsFrame } from '../../src/ingest/decode-frame.js';
import { validateEvent } from '../../src/ingest/validate-event.js';

// MessagePack bytes written by hand (spec: github.com/msgpack/msgpack/blob/master/spec.md),
// as Python's, Go's, Rust's and Java's encoders write them, not as msgpackr would.
type Bytes = number[];
const bigEndian = (n: bigint, size: number): Bytes =>
  Array.from({ length: size }, (_, i) => Number((n >> BigInt(8 * (size - 1 - i))) & 0xffn));
const str = (s: string): Bytes => [0xa0 | s.length, ...Buffer.from(s)];
const map = (entries: Array<[string, Bytes]>): Bytes => [
  0x80 | entries.length,
  ...entries.flatMap(([key, value]) => [...str(key), ...value]),
];
const array = (items: Bytes[]): Bytes => [0x90 | items.length, ...items.flat()];
const uint64 = (n: bigint): Bytes => [0xcf, ...bigEndian(n, 8)];
const int64 = (n: bigint): Bytes => [0xd3, ...bigEndian(BigInt.asUintN(64, n), 8)];
const timestamp32 = (seconds: number): Bytes => [0xd6, 0xff, ...bigEndian(BigInt(seconds), 4)];
const timestamp64 = (seconds: number, nanos: number): Bytes => [
  0xd7,
  0xff,
  ...bigEndian((BigInt(nanos) << 34n) | BigInt(seconds), 8),
];
const timestamp96 = (seconds: bigint, nanos: number): Bytes => [
  0xc7,
  12,
  0xff,
  ...bigEndian(BigInt(nanos), 4),
  ...bigEndian(BigInt.asUintN(64, seconds), 8),
];
const frame = (bytes: Bytes) => Uint8Array.from(bytes);

const limits = configSchema.parse({}).limits;
const ms = 1_796_082_568_232;
const decode = (entries: Array<[string, Bytes]>) =>
  decodeMessage(frame(map([['t', str('x')], ...entries])), limits.maxFrameBytes);
const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return (err as BacklineError).code;
  }
  return 'no error';
};

describe('decodeMessage: 64-bit integers', () => {
  it('reads uint64 and int64 within ±2^53 as exact numbers', () => {
    expect(
      decode([
        ['u', uint64(BigInt(ms))],
        ['i', int64(BigInt(-ms))],
        ['s', uint64(5n)],
        ['max', uint64(2n ** 53n)],
        ['min', int64(-(2n ** 53n))],
      ]),
    ).toEqual({ t: 'x', u: ms, i: -ms, s: 5, max: 2 ** 53, min: -(2 ** 53) });
  });

  it('leaves integers past ±2^53 as bigints, so nothing rounds them', () => {
    expect(
      decode([
        ['u', uint64(2n ** 53n + 1n)],
        ['top', uint64(2n ** 64n - 1n)],
        ['i', int64(-(2n ** 53n) - 1n)],
      ]),
    ).toEqual({ t: 'x', u: 2n ** 53n + 1n, top: 2n ** 64n - 1n, i: -(2n ** 53n) - 1n });
  });

  it('reads msgpackr-encoded bigints (int64) in plain maps and in records alike', () => {
    const message = { t: 'x', a: BigInt(ms), b: [BigInt(-ms)] };
    for (const packr of [new Packr({ useRecords: false }), new Packr()]) {
      expect(decodeMessage(packr.pack(message), limits.maxFrameBytes)).toEqual({
        t: 'x',
        a: ms,
        b: [-ms],
      });
    }
  });

  it('reads the timestamp extension in all three sizes as Dates', () => {
    const seconds = Math.floor(ms / 1000);
    expect(
      decode([
        ['a', timestamp32(seconds)],
        ['b', timestamp64(seconds, 232_000_000)],
        ['c', timestamp96(BigInt(seconds), 232_400_000)],
        ['d', timestamp96(-1n, 0)],
      ]),
    ).toEqual({
      t: 'x',
      a: new Date(seconds * 1000),
      b: new Date(ms),
      c: new Date(ms),
      d: new Date(-1000),
    });
  });
});

describe('events frames from other encoders', () => {
  const event = (id: string, ts: Bytes, extra: Array<[string, Bytes]> = []): Bytes =>
    map([['id', str(id)], ['type', str('click')], ['ts', ts], ...extra]);

  it('validates events whose ts, sentAt, seq and props are uint64, int64 or timestamps', () => {
    const seconds = Math.floor(ms / 1000);
    const msg = decode([
      ['seq', uint64(7n)],
      [
        'events',
        array([
          event('a', uint64(BigInt(ms)), [['sentAt', uint64(BigInt(ms))]]),
          event('b', int64(BigInt(ms))),
          event('c', timestamp32(seconds)),
          event('d', timestamp64(seconds, 232_000_000), [
            ['sentAt', timestamp96(BigInt(seconds), 232_000_000)],
          ]),
          event('e', uint64(BigInt(ms)), [['props', map([['n', uint64(2n ** 63n + 5n)]])]]),
        ]),
      ],
    ]);
    const { seq, events } = parseEventsFrame(msg, limits, true);
    expect(seq).toBe(7);
    const rows = events.map((e) => validateEvent(e, 'p', ms, limits));
    expect(rows.map((r) => r.ok && r.row.client_ts)).toEqual([ms, ms, seconds * 1000, ms, ms]);
    expect(rows[4]!.ok && rows[4]!.row.props).toBe('{"n":"9223372036854775813"}');
  });

  it('refuses a seq past 2^53 with BAD_FRAME on sockets and over HTTP', () => {
    const msg = decode([
      ['seq', uint64(2n ** 53n + 1n)],
      ['events', array([])],
    ]);
    expect(codeOf(() => parseEventsFrame(msg, limits, true))).toBe('BAD_FRAME');
    const body = frame(
      map([
        ['seq', uint64(2n ** 64n - 1n)],
        ['events', array([])],
      ]),
    );
    expect(
      codeOf(() =>
        parseEventsFrame(
          decodeBody(body, 'application/msgpack', limits.maxFrameBytes),
          limits,
          false,
        ),
      ),
    ).toBe('BAD_FRAME');
  });

  it('reads an HTTP msgpack body with uint64 seq and ts', () => {
    const body = frame(
      map([
        ['seq', uint64(1n << 40n)],
        ['events', array([event('h', uint64(BigInt(ms)))])],
      ]),
    );
    const batch = parseEventsFrame(
      decodeBody(body, 'application/msgpack', limits.maxFrameBytes),
      limits,
      false,
    );
    expect(batch.seq).toBe(2 ** 40);
    expect(validateEvent(batch.events[0], 'p', ms, limits)).toMatchObject({
      ok: true,
      row: { ts: ms },
    });
  });
});

describe('decodeMessage: msgpackr extensions a client could abuse', () => {
  // `depth` arrays, each holding `fanOut` references to the one below it: a few KB on the
  // wire, fanOut^depth values to walk once decoded.
  function sharedReferences(depth: number, fanOut: number): unknown {
    let level: unknown = 1;
    for (let i = 0; i < depth; i++) level = Array.from({ length: fanOut }, () => level);
    return level;
  }

  it('refuses structured-clone references (ext 0x69, 0x70) as BAD_MSGPACK', () => {
    const packr = new Packr({ structuredClone: true, useRecords: false });
    const props = { d: sharedReferences(4, 1000) };
    const bytes = packr.pack({
      t: 'events',
      seq: 1,
      events: [{ id: 'a', type: 'b', ts: ms, props }],
    });
    expect(bytes.length).toBeLessThan(limits.maxFrameBytes);
    expect(codeOf(() => decodeMessage(bytes, limits.maxFrameBytes))).toBe('BAD_MSGPACK');
    expect(codeOf(() => decodeBody(bytes, 'application/msgpack', limits.maxFrameBytes))).toBe(
      'BAD_MSGPACK',
    );
  });

  it('refuses a cycle made of them', () => {
    const cycle: unknown[] = [];
    cycle.push(cycle);
    const bytes = new Packr({ structuredClone: true }).pack({ t: 'sub', id: cycle });
    expect(codeOf(() => decodeMessage(bytes, limits.maxFrameBytes))).toBe('BAD_MSGPACK');
  });
});
