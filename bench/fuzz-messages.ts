/**
 * Hostile messages for the live (`sub`, `unsub`) and user (`resume`, `read`, `seen`,
 * `archive`) sockets, and the valid ones each socket sends between them as probes.
 */
import { Packr } from 'msgpackr';
import { commonFrame, type Frame, type FrameLimits } from './fuzz-frames.js';
import * as mp from './fuzz-msgpack.js';
import { mutate } from './fuzz-mutate.js';
import type { Random } from './fuzz-random.js';

const packr = new Packr({ useRecords: false });
const binary = (kind: string, data: Buffer): Frame => ({ kind, data, binary: true });

export interface LiveStreams {
  /** Streams of the socket's own project. */
  own: string[];
  /** Streams of another project: never readable from this one. */
  other: string[];
  /** What the valid `sub` between hostile runs asks for: always readable, never redefined. */
  probe: string[];
}

/** A `sub` or `unsub` the server answers with exactly one `snapshot`, `unsubscribed` or error. */
export function liveProbe(random: Random, streams: LiveStreams, id: string): Buffer {
  if (random.chance(0.3)) return packr.pack({ t: 'unsub', id });
  return packr.pack({ t: 'sub', id, stream: random.pick(streams.probe), last: random.int(20) });
}

const streamNames = (r: Random, streams: LiveStreams) =>
  r.weighted<Buffer>([
    [3, mp.str(r.pick(streams.other))],
    [1, mp.str('no_such_stream')],
    [1, mp.str('../fuzz_other')],
    [1, mp.str('x'.repeat(r.pick([129, 5000])))],
    [1, mp.str(r.pick(mp.invalidUtf8))],
    [1, mp.str('')],
    [1, mp.str(r.pick(mp.protoKeys))],
    [2, mp.hostileValue(r, 2000)],
  ]);

function badSub(r: Random, streams: LiveStreams): Buffer {
  const fields: Array<[string, Buffer]> = [
    ['t', mp.str('sub')],
    ['id', mp.str(`s${r.int(200)}`)],
    ['stream', mp.str(r.pick(streams.own))],
  ];
  const which = r.int(4);
  if (which === 0) fields[1] = ['id', mp.hostileValue(r, 2000)];
  if (which === 1) fields[2] = ['stream', streamNames(r, streams)];
  if (which === 2) fields.push(['key', mp.hostileValue(r, 2000)]);
  if (which === 3) {
    const last = r.pick([
      mp.int(-1),
      mp.int(1001),
      mp.float64(1.5),
      mp.str('10'),
      mp.extremeNumber(r),
    ]);
    fields.push(['last', last]);
  }
  return mp.map(fields);
}

/** One hostile live message. */
export function liveFrame(random: Random, streams: LiveStreams, limits: FrameLimits): Frame {
  const common = commonFrame(random, limits);
  if (common) return common;
  return random.weighted<() => Frame>([
    [4, () => binary('mutated', mutate(liveProbe(random, streams, `m${random.int(100)}`), random))],
    [1, () => binary('truncated', liveProbe(random, streams, 'x').subarray(0, 1 + random.int(20)))],
    [5, () => binary('bad-sub', badSub(random, streams))],
    [
      2,
      () =>
        binary(
          'other-project-stream',
          packr.pack({ t: 'sub', id: 'o', stream: random.pick(streams.other) }),
        ),
    ],
    [
      1,
      () =>
        binary(
          'bad-unsub',
          mp.map([
            ['t', mp.str('unsub')],
            ['id', mp.hostileValue(random, 2000)],
          ]),
        ),
    ],
  ])();
}

/** A `resume` (answered by `counts`) or a mark of ids that do not exist (`marked`, `counts`). */
export function userProbe(random: Random): Buffer {
  if (random.chance(0.5)) return packr.pack({ t: 'resume' });
  const t = random.pick(['read', 'seen', 'archive']);
  return packr.pack({ t, ids: [`n-${random.int(1000)}`] });
}

function badIds(r: Random): Buffer {
  return r.weighted<Buffer>([
    [2, mp.hostileValue(r, 2000)],
    [1, mp.array([])],
    [1, mp.array(Array.from({ length: 501 }, (_, i) => mp.str(`n${i}`)))],
    [1, mp.array([mp.int(1), mp.nil(), mp.map([])])],
    [1, mp.array([mp.str('x'.repeat(5000))])],
    [1, mp.array([mp.str(r.pick(mp.invalidUtf8))])],
    [1, mp.array([mp.str('../../etc/passwd'), mp.str('\u0000')])],
  ]);
}

/** One hostile user-socket message. */
export function userFrame(random: Random, limits: FrameLimits): Frame {
  const common = commonFrame(random, limits);
  if (common) return common;
  const mark = random.pick(['read', 'seen', 'archive']);
  return random.weighted<() => Frame>([
    [4, () => binary('mutated', mutate(userProbe(random), random))],
    [1, () => binary('truncated', userProbe(random).subarray(0, 1 + random.int(12)))],
    [
      5,
      () =>
        binary(
          'bad-mark',
          mp.map([
            ['t', mp.str(mark)],
            ['ids', badIds(random)],
          ]),
        ),
    ],
    [1, () => binary('bad-mark', mp.map([['t', mp.str(mark)]]))],
    [
      3,
      () =>
        binary(
          'bad-resume',
          mp.map([
            ['t', mp.str('resume')],
            ['after', mp.hostileValue(random, 2000)],
          ]),
        ),
    ],
  ])();
}
