/**
 * What the hostile frames of every socket share: the frame type, hostile events, text and
 * garbage frames, unknown types. Events the fuzzer makes are of type `fuzz.hostile` with ids
 * `h-…`: no mutation of them can become one of the valid events (`fuzz.valid`, `v-…`) the
 * run checks in storage afterwards.
 */
import * as mp from './fuzz-msgpack.js';
import type { Random } from './fuzz-random.js';

export interface Frame {
  kind: string;
  data: Buffer | string;
  binary: boolean;
}

export interface FrameLimits {
  /** Larger frames are answered FRAME_TOO_LARGE (the socket's `maxFrameBytes`). */
  maxFrameBytes: number;
  /** Larger frames make uWS drop the connection (`payloadLimit`). */
  dropBytes: number;
}

export const binary = (kind: string, data: Buffer): Frame => ({ kind, data, binary: true });

/** A hostile event: the usual fields, one of them (or a new one) given `value`. */
export function hostileEvent(random: Random, value?: Buffer): Buffer {
  const fields: Array<[string, Buffer]> = [
    ['id', mp.str(`h-${random.bytes(6).toString('hex')}`)],
    ['type', mp.str('fuzz.hostile')],
    ['ts', mp.int(Date.now())],
    ['userId', mp.str(`fuzz-hostile-${random.int(50)}`)],
    [
      'props',
      mp.map([
        ['g', mp.int(random.int(20))],
        ['path', mp.str('/x')],
      ]),
    ],
  ];
  if (random.chance(0.02)) fields.push(['props', mp.map([['notify', mp.str('{{props.x}}')]])]);
  if (value) {
    const names = ['id', 'type', 'ts', 'sentAt', 'userId', 'anonymousId', 'sessionId', 'props'];
    const name = random.chance(0.1) ? random.pick(mp.protoKeys) : random.pick(names);
    const inProps = name === 'props' && random.chance(0.7);
    const entry: [string, Buffer] = [name, inProps ? mp.map([['v', value]]) : value];
    const at = fields.findIndex(([key]) => key === name);
    if (at >= 0) fields[at] = entry;
    else fields.push(entry);
  }
  return mp.map(fields);
}

/** `{t:"events", seq, events}` from encoded parts. */
export const eventsFrame = (seq: Buffer, events: Buffer[]): Buffer =>
  mp.map([
    ['t', mp.str('events')],
    ['seq', seq],
    ['events', mp.array(events)],
  ]);

export function textFrame(r: Random): string {
  return r.weighted<() => string>([
    [
      2,
      () =>
        JSON.stringify({
          t: 'events',
          seq: 1,
          events: [{ id: 'h-t', type: 'fuzz.hostile', ts: Date.now() }],
        }),
    ],
    [1, () => r.bytes(1 + r.int(300)).toString('latin1')],
    [1, () => ''],
    [1, () => '\u0000\ud800'],
  ])();
}

export function unknownType(r: Random): Buffer {
  const t = r.pick([
    '',
    'EVENTS',
    'event',
    'sub',
    'ack',
    'error',
    '__proto__',
    'constructor',
    'x'.repeat(5000),
  ]);
  return mp.map([
    ['t', mp.str(t)],
    ['seq', mp.int(1)],
  ]);
}

/** The hostile frames every socket shares, whatever its own messages are. */
export function commonFrame(random: Random, limits: FrameLimits): Frame | undefined {
  return random.weighted<() => Frame | undefined>([
    [30, () => undefined],
    [2, () => ({ kind: 'text', data: textFrame(random), binary: false })],
    [3, () => binary('garbage', random.bytes(1 + random.int(200)))],
    [2, () => binary('unknown-type', unknownType(random))],
    [
      2,
      () =>
        binary(
          'deep',
          mp.map([
            ['t', mp.str('x')],
            ['id', mp.nested(random.pick([10, 1000, 3000, 8000]), mp.int(1), random.chance(0.5))],
          ]),
        ),
    ],
    [
      2,
      () =>
        binary(
          'proto-keys',
          mp.map([
            ['t', mp.str('x')],
            ['__proto__', mp.pollution(random)],
          ]),
        ),
    ],
    [
      1,
      () =>
        binary(
          'ext-types',
          mp.map([
            ['t', mp.str('x')],
            ['id', mp.hostileExt(random)],
          ]),
        ),
    ],
    [
      0.2,
      () =>
        binary(
          'oversized',
          Buffer.concat([
            mp.strHeader(limits.maxFrameBytes + 10),
            Buffer.alloc(limits.maxFrameBytes + 10),
          ]),
        ),
    ],
    [0.02, () => binary('dropped-size', Buffer.alloc(limits.dropBytes + 100, 0x90))],
    [1, () => binary('empty', Buffer.alloc(0))],
  ])();
}
