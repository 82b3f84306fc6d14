/**
 * MessagePack written byte by byte (spec: github.com/msgpack/msgpack/blob/master/spec.md), so
 * the fuzzer can say what no encoder would: headers that lie about their length, nesting
 * past any decoder's stack, msgpackr's own extension types, invalid UTF-8, `__proto__` keys.
 */
import { Packr } from 'msgpackr';
import type { Random } from './fuzz-random.js';

export type Bytes = Buffer;

const u8 = (...values: number[]): Bytes => Buffer.from(values);
const be = (n: number | bigint, size: number): Bytes => {
  const out = Buffer.alloc(size);
  if (size === 8) out.writeBigUInt64BE(BigInt.asUintN(64, BigInt(n)));
  else out.writeUIntBE(Number(n), 0, size);
  return out;
};

export const nil = (): Bytes => u8(0xc0);
export const bool = (b: boolean): Bytes => u8(b ? 0xc3 : 0xc2);
export const float64 = (x: number): Bytes => {
  const out = Buffer.alloc(9);
  out[0] = 0xcb;
  out.writeDoubleBE(x, 1);
  return out;
};
export const uint64 = (n: bigint): Bytes => Buffer.concat([u8(0xcf), be(n, 8)]);
export const int64 = (n: bigint): Bytes => Buffer.concat([u8(0xd3), be(n, 8)]);

export function int(n: number): Bytes {
  if (n >= 0 && n < 128) return u8(n);
  if (n < 0 && n >= -32) return u8(n & 0xff);
  return n >= 0 && n < 2 ** 32 ? Buffer.concat([u8(0xce), be(n, 4)]) : float64(n);
}

/** A string header for `length` bytes, true or not. */
export function strHeader(length: number): Bytes {
  if (length < 32) return u8(0xa0 | length);
  if (length < 256) return u8(0xd9, length);
  if (length < 65536) return Buffer.concat([u8(0xda), be(length, 2)]);
  return Buffer.concat([u8(0xdb), be(length, 4)]);
}

export const str = (s: string | Bytes): Bytes => {
  const bytes = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([strHeader(bytes.length), bytes]);
};

export const bin = (bytes: Bytes): Bytes => {
  const head =
    bytes.length < 256 ? u8(0xc4, bytes.length) : Buffer.concat([u8(0xc6), be(bytes.length, 4)]);
  return Buffer.concat([head, bytes]);
};

export function arrayHeader(count: number): Bytes {
  if (count < 16) return u8(0x90 | count);
  if (count < 65536) return Buffer.concat([u8(0xdc), be(count, 2)]);
  return Buffer.concat([u8(0xdd), be(count, 4)]);
}

export function mapHeader(count: number): Bytes {
  if (count < 16) return u8(0x80 | count);
  if (count < 65536) return Buffer.concat([u8(0xde), be(count, 2)]);
  return Buffer.concat([u8(0xdf), be(count, 4)]);
}

export const array = (items: Bytes[]): Bytes =>
  Buffer.concat([arrayHeader(items.length), ...items]);

/** A map from `[key, value]` pairs; a string key is written as a MessagePack string. */
export const map = (entries: Array<[string | Bytes, Bytes]>): Bytes =>
  Buffer.concat([
    mapHeader(entries.length),
    ...entries.flatMap(([key, value]) => [typeof key === 'string' ? str(key) : key, value]),
  ]);

/** An extension value of `type` (−128…127) holding `data`. */
export function ext(type: number, data: Bytes): Bytes {
  const t = type & 0xff;
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  const head = fixed[data.length];
  if (head) return Buffer.concat([u8(head, t), data]);
  if (data.length < 256) return Buffer.concat([u8(0xc7, data.length, t), data]);
  if (data.length < 65536) return Buffer.concat([u8(0xc8), be(data.length, 2), u8(t), data]);
  return Buffer.concat([u8(0xc9), be(data.length, 4), u8(t), data]);
}

/** `depth` nested one-entry maps or arrays around `inner`: past ~4,000, decoders overflow. */
export function nested(depth: number, inner: Bytes, asMaps: boolean): Bytes {
  const level = asMaps ? Buffer.concat([u8(0x81), str('k')]) : u8(0x91);
  return Buffer.concat([Buffer.alloc(depth * level.length).fill(level), inner]);
}

/** Strings no UTF-8 decoder should take as they are. */
export const invalidUtf8: readonly Bytes[] = [
  u8(0xff, 0xfe, 0xfd),
  u8(0xc0, 0xaf), // overlong '/'
  u8(0xe0, 0x80, 0xaf), // overlong '/'
  u8(0xed, 0xa0, 0x80), // a lone surrogate
  u8(0xf4, 0x90, 0x80, 0x80), // past U+10FFFF
  u8(0x61, 0x80, 0x62), // a stray continuation byte
  u8(0xe2, 0x82), // cut short
  u8(0x00, 0x61, 0x00),
];

/** Keys that reach a prototype when code assigns through them. */
export const protoKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
] as const;

/** The property a prototype pollution would plant; the run looks for it in answers afterwards. */
export const pollutionCanary = 'fuzzPolluted';

/** `{__proto__: {fuzzPolluted: …}}`, `{constructor: {prototype: …}}` and the like. */
export function pollution(random: Random): Bytes {
  const planted = map([[pollutionCanary, str('yes')]]);
  return random.weighted<Bytes>([
    [2, map([['__proto__', planted]])],
    [1, map([['constructor', map([['prototype', planted]])]])],
    [1, map([[random.pick(protoKeys), random.chance(0.5) ? planted : str('x')]])],
  ]);
}

/** Extension values: msgpackr's own (bigint, Error, Set, RegExp, typed arrays, records, bundles, references), timestamps of every bad length, and unknown types. */
export function hostileExt(random: Random): Bytes {
  const data = (n: number) => random.bytes(n);
  return random.weighted<Bytes>([
    [3, ext(-1, data(random.pick([0, 1, 3, 4, 5, 8, 12, 13])))],
    [1, ext(-1, Buffer.concat([be(0xffffffff, 4), be(2n ** 63n, 8)]))], // far-future 96-bit
    [2, ext(0x42, data(random.pick([1, 8, 9, 64, 4096])))], // msgpackr bigint
    [2, ext(0x65, Buffer.alloc(0))], // Error: its content follows as a value
    [
      1,
      Buffer.concat([
        ext(0x65, Buffer.alloc(0)),
        array([str(random.pick(['constructor', '__proto__', 'toString', 'Error'])), str('m')]),
      ]),
    ],
    [2, ext(0x69, data(4))], // structured-clone id
    [2, ext(0x70, data(4))], // structured-clone pointer
    [1, Buffer.concat([ext(0x73, Buffer.alloc(0)), array([int(1), int(2)])])], // Set
    [1, ext(0x74, Buffer.concat([u8(random.int(20)), data(random.int(64))]))], // typed array
    [
      1,
      Buffer.concat([
        ext(0x78, Buffer.alloc(0)),
        array([str('(a+)+$'), str(random.pick(['g', 'zz', '']))]),
      ]),
    ], // RegExp
    [1, ext(0x62, data(4))], // string bundle
    [2, ext(0x72, data(random.int(6)))], // record definition
    [3, ext(random.int(256) - 128, data(random.int(40)))],
  ]);
}

/** Numbers at every edge: uint64 and int64 extremes, 2^53 ± 1, NaN, infinities, −0, denormals. */
export function extremeNumber(random: Random): Bytes {
  return random.weighted<Bytes>([
    [2, uint64(2n ** 64n - 1n)],
    [2, int64(-(2n ** 63n))],
    [2, uint64(2n ** 53n + 1n)],
    [1, int64(-(2n ** 53n) - 1n)],
    [1, float64(Number.NaN)],
    [1, float64(Infinity)],
    [1, float64(-Infinity)],
    [1, float64(-0)],
    [1, float64(5e-324)],
    [1, float64(1.7976931348623157e308)],
    [1, u8(0xca, 0x7f, 0xc0, 0x00, 0x00)], // float32 NaN
    [1, u8(0xd0, 0x80)], // int8 −128
    [1, Buffer.concat([u8(0xce), be(0xffffffff, 4)])],
  ]);
}

const cloner = new Packr({ structuredClone: true, useRecords: false });

/**
 * msgpackr's structured-clone references (ext 0x69, 0x70) making `depth` levels of arrays that
 * each hold `fanOut` references to the level below: fanOut^depth values once read, in a few
 * KB; or a cycle.
 */
export function sharedReferences(random: Random): Bytes {
  if (random.chance(0.2)) {
    const cycle: unknown[] = [];
    cycle.push(cycle);
    return cloner.pack(cycle);
  }
  let level: unknown = 1;
  const fanOut = random.pick([2, 50, 500]);
  for (let i = 0; i < 4; i++) level = Array.from({ length: fanOut }, () => level);
  return cloner.pack(level);
}

/** msgpackr's bigint extension holding an integer of `bytes` bytes (a 1 MiB one: 2.5M digits). */
export const hugeBigint = (bytes: number): Bytes => ext(0x42, Buffer.alloc(bytes, 0x7f));

/** One hostile value of any kind, at most about `maxBytes` long. */
export function hostileValue(random: Random, maxBytes = 4096): Bytes {
  return random.weighted<() => Bytes>([
    [3, () => hostileExt(random)],
    [1, () => sharedReferences(random)],
    [3, () => extremeNumber(random)],
    [2, () => pollution(random)],
    [2, () => str(random.pick(invalidUtf8))],
    [2, () => nested(random.int(Math.min(maxBytes / 3, 6000)), int(1), random.chance(0.5))],
    [1, () => str(random.bytes(random.int(Math.min(maxBytes, 9000))).toString('latin1'))],
    [1, () => Buffer.concat([strHeader(2 ** 31), u8(0x61)])], // a header that lies
    [1, () => Buffer.concat([u8(0xdd), be(0xffffffff, 4), int(1)])],
    [1, () => Buffer.concat([u8(0xdf), be(0xffffffff, 4), str('k')])],
    [1, () => bin(random.bytes(random.int(64)))],
    [1, () => u8(0xc1)], // never used
    [
      1,
      () =>
        map([
          [int(7), nil()],
          [nil(), int(1)],
          [array([int(1)]), int(2)],
          [map([]), int(3)],
        ]),
    ],
    [
      1,
      () =>
        map([
          ['k', int(1)],
          ['k', str('again')],
        ]),
    ],
    [1, () => array([])],
    [1, () => map([])],
    [1, () => nil()],
    [1, () => bool(random.chance(0.5))],
  ])();
}
