/**
 * Hostile frames for the ingest socket, each tagged with its kind for the report: mutated and
 * truncated batches, fields of the wrong type, nesting, extension types, extreme numbers,
 * `__proto__` keys, invalid UTF-8, sizes past every limit, text and garbage.
 */
import { Packr } from 'msgpackr';
import {
  binary,
  eventsFrame,
  hostileEvent,
  textFrame,
  unknownType,
  type Frame,
  type FrameLimits,
} from './fuzz-frames.js';
import * as mp from './fuzz-msgpack.js';
import { mutate } from './fuzz-mutate.js';
import type { Random } from './fuzz-random.js';

const packers = [new Packr(), new Packr({ useRecords: false })];

function template(random: Random): Buffer {
  const events = Array.from({ length: 1 + random.int(4) }, () => ({
    id: `h-${random.bytes(6).toString('hex')}`,
    type: 'fuzz.hostile',
    ts: Date.now() - random.int(1000),
    userId: `fuzz-hostile-${random.int(50)}`,
    props: { g: random.int(20), ms: random.next() * 500, tags: ['a', 'b'], nested: { x: 1 } },
  }));
  return random.pick(packers).pack({ t: 'events', seq: random.int(1000), events });
}

const ingestKinds: ReadonlyArray<readonly [number, (r: Random, l: FrameLimits) => Frame]> = [
  [20, (r) => binary('mutated', mutate(template(r), r))],
  [6, (r) => binary('truncated', template(r).subarray(0, r.int(200)))],
  [12, (r) => binary('wrong-types', wrongTypes(r))],
  [
    8,
    (r) =>
      binary(
        'hostile-fields',
        eventsFrame(mp.int(r.int(1000)), [hostileEvent(r, mp.hostileValue(r))]),
      ),
  ],
  [4, (r) => binary('deep', deep(r))],
  [5, (r) => binary('ext-types', eventsFrame(mp.int(1), [hostileEvent(r, mp.hostileExt(r))]))],
  [5, (r) => binary('extreme-numbers', extremeNumbers(r))],
  [5, (r) => binary('proto-keys', protoFrame(r))],
  [4, (r) => binary('invalid-utf8', invalidUtf8Frame(r))],
  [1.5, (r) => binary('huge', huge(r))],
  [0.05, (r, l) => binary('oversized', oversized(r, l.maxFrameBytes + 1 + r.int(64 * 1024)))],
  [0.005, (r, l) => binary('dropped-size', oversized(r, l.dropBytes + 1 + r.int(1024)))],
  [3, (r) => ({ kind: 'text', data: textFrame(r), binary: false })],
  [4, (r) => binary('garbage', r.bytes(1 + r.int(r.chance(0.1) ? 60_000 : 200)))],
  [3, (r) => binary('unknown-type', unknownType(r))],
  [1, () => binary('empty', Buffer.alloc(0))],
];

/** One hostile ingest frame. */
export const ingestFrame = (random: Random, limits: FrameLimits): Frame =>
  random.weighted(ingestKinds)(random, limits);

function wrongTypes(r: Random): Buffer {
  const good = (): [Buffer, Buffer, Buffer] => [
    mp.str('events'),
    mp.int(r.int(1000)),
    mp.array([hostileEvent(r)]),
  ];
  const parts = good();
  parts[r.int(3)] = mp.hostileValue(r, 2000);
  const entries: Array<[string, Buffer]> = [
    ['t', parts[0]],
    ['seq', parts[1]],
    ['events', parts[2]],
  ];
  return mp.map(r.chance(0.2) ? entries.slice(0, r.int(3)) : entries);
}

function deep(r: Random): Buffer {
  const depth = r.pick([6, 10, 100, 1000, 2500, 4000, 8000, 20_000]);
  if (r.chance(0.5))
    return eventsFrame(mp.int(1), [hostileEvent(r, mp.nested(depth, mp.int(1), r.chance(0.5)))]);
  return mp.map([
    ['t', mp.str('events')],
    ['seq', mp.int(1)],
    ['events', mp.nested(depth, mp.int(1), false)],
  ]);
}

function extremeNumbers(r: Random): Buffer {
  const at = r.int(4);
  const n = () => mp.extremeNumber(r);
  const event = hostileEvent(r, at === 1 ? n() : undefined);
  return at === 0 ? eventsFrame(n(), [event]) : eventsFrame(mp.int(1), [event]);
}

function protoFrame(r: Random): Buffer {
  const where = r.int(3);
  if (where === 0)
    return Buffer.concat([
      mp.mapHeader(4),
      mp.str('__proto__'),
      mp.pollution(r),
      eventsFrame(mp.int(1), [hostileEvent(r)]).subarray(1),
    ]);
  return eventsFrame(mp.int(1), [hostileEvent(r, mp.pollution(r))]);
}

function invalidUtf8Frame(r: Random): Buffer {
  const bad = mp.str(Buffer.concat([Buffer.from('x'), r.pick(mp.invalidUtf8)]));
  if (r.chance(0.2))
    return mp.map([
      ['t', bad],
      ['seq', mp.int(1)],
      ['events', mp.array([])],
    ]);
  if (r.chance(0.3)) return eventsFrame(mp.int(1), [hostileEvent(r, mp.map([[bad, mp.int(1)]]))]);
  return eventsFrame(mp.int(1), [hostileEvent(r, bad)]);
}

function huge(r: Random): Buffer {
  return r.weighted<() => Buffer>([
    [
      2,
      () =>
        eventsFrame(
          mp.int(1),
          Array.from({ length: 1001 }, () => mp.map([['id', mp.str('h')]])),
        ),
    ],
    [2, () => eventsFrame(mp.int(1), [hostileEvent(r, mp.str('x'.repeat(8193 + r.int(50_000))))])],
    [
      2,
      () =>
        eventsFrame(mp.int(1), [
          hostileEvent(r, mp.array(Array.from({ length: 20_000 }, () => mp.int(r.int(100))))),
        ]),
    ],
    [
      1,
      () =>
        eventsFrame(mp.int(1), [
          hostileEvent(
            r,
            mp.map(
              Array.from({ length: 3000 }, (_, i) => [`k${i}`, mp.int(i)] as [string, Buffer]),
            ),
          ),
        ]),
    ],
    [
      1,
      () =>
        eventsFrame(mp.int(1), [
          mp.map([
            ['id', mp.str('h'.repeat(129))],
            ['type', mp.str('t')],
            ['ts', mp.int(Date.now())],
          ]),
        ]),
    ],
    [1, () => Buffer.concat([mp.strHeader(300_000), Buffer.alloc(300_000, 0x61)])],
    [
      0.5,
      () => eventsFrame(mp.int(1), [hostileEvent(r, mp.hugeBigint(r.pick([65_536, 600_000])))]),
    ],
  ])();
}

/** Past `bytes`: a frame whose props carry one long binary blob. */
function oversized(r: Random, bytes: number): Buffer {
  return eventsFrame(mp.int(1), [hostileEvent(r, mp.bin(Buffer.alloc(bytes, r.int(256))))]);
}
