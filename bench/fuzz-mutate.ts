import type { Random } from './fuzz-random.js';

// Bytes that mean the most in MessagePack: type markers at each boundary, lengths at their
// edges, the never-used 0xc1.
const interesting = [
  0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc7, 0xc9, 0xca, 0xcb,
  0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
];

type Mutator = (bytes: Buffer, random: Random) => Buffer;

const mutators: ReadonlyArray<readonly [number, Mutator]> = [
  [4, (b, r) => flip(b, r.int(b.length), 1 << r.int(8))],
  [3, (b, r) => setByte(b, r.int(b.length), r.pick(interesting))],
  [2, (b, r) => setByte(b, r.int(b.length), r.int(256))],
  [2, (b, r) => b.subarray(0, r.int(b.length))], // truncated
  [1, (b, r) => b.subarray(r.int(b.length))], // its head lost
  [2, (b, r) => splice(b, r.int(b.length + 1), 0, r.bytes(1 + r.int(8)))],
  [1, (b, r) => splice(b, r.int(b.length), 1 + r.int(16), Buffer.alloc(0))],
  [
    1,
    (b, r) => {
      const at = r.int(b.length);
      return splice(b, r.int(b.length + 1), 0, b.subarray(at, at + 1 + r.int(32)));
    },
  ],
  [1, (b) => Buffer.concat([b, b])], // two messages in one frame
  [1, (b, r) => Buffer.concat([b, r.bytes(1 + r.int(4))])], // trailing bytes
];

/**
 * `bytes` with `count` random mutations of the kinds AFL and libFuzzer apply: bit flips,
 * interesting and random bytes, truncation, insertion, deletion, duplication, trailing data.
 * Never changes `bytes` itself.
 */
export function mutate(bytes: Buffer, random: Random, count = 1 + random.int(4)): Buffer {
  let out: Buffer = Buffer.from(bytes);
  for (let i = 0; i < count && out.length > 0; i++) out = random.weighted(mutators)(out, random);
  return out;
}

function flip(bytes: Buffer, at: number, mask: number): Buffer {
  bytes[at]! ^= mask;
  return bytes;
}

function setByte(bytes: Buffer, at: number, value: number): Buffer {
  bytes[at] = value;
  return bytes;
}

function splice(bytes: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at + remove)]);
}
