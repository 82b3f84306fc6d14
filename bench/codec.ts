import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Packr } from 'msgpackr';
import { decodeBody, decodeMessage } from '../src/ingest/decode-frame.js';
import { benchEvents } from './event-frames.js';
import { count, ratio } from './number-format.js';
import type { BenchOptions } from './options.js';
import { median } from './percentiles.js';
import type { Scenario, ScenarioResult } from './scenario.js';

const name = 'codec';
// Decoded in turn, so the JIT sees as many frames as a server does, not one hot frame.
const distinctFrames = 256;
// Rounds interleave the codecs, so machine noise (other processes, CPU boost) hits each alike.
const rounds = 5;
// Above every frame here: the size check passes and is not what is measured.
const maxFrameBytes = 64 * 1024 * 1024;

interface Codec {
  key: 'records' | 'maps' | 'json';
  label: string;
  encode(frame: object): Uint8Array;
  /** The server's own decoder for this encoding. */
  decode(bytes: Uint8Array): unknown;
}

const codecs: Codec[] = [
  {
    key: 'records',
    label: 'msgpackr records (`new Packr()`)',
    encode: new Packr().pack,
    decode: (bytes) => decodeMessage(bytes, maxFrameBytes),
  },
  {
    key: 'maps',
    label: 'MessagePack maps (`useRecords: false`)',
    encode: new Packr({ useRecords: false }).pack,
    decode: (bytes) => decodeMessage(bytes, maxFrameBytes),
  },
  {
    key: 'json',
    label: 'JSON (HTTP `application/json`)',
    encode: (frame) => Buffer.from(JSON.stringify(frame)),
    decode: (bytes) => decodeBody(bytes, 'application/json', maxFrameBytes),
  },
];

/**
 * What the server pays to decode one `events` frame as msgpackr records, plain MessagePack
 * maps and JSON, through its own decoders (`decodeMessage` for socket frames, `decodeBody`
 * for JSON bodies), all in one process and one run, and how many bytes each frame takes.
 */
export const codec: Scenario = { name, run: runCodec };

async function runCodec(options: BenchOptions): Promise<ScenarioResult> {
  const frames = Array.from({ length: distinctFrames }, (_, seq) => ({
    t: 'events',
    seq,
    events: benchEvents('codec-', seq, options.eventsPerFrame),
  }));
  const encoded = new Map(codecs.map((c) => [c.key, frames.map((f) => c.encode(f))]));
  const wrong = codecs.filter((c) => !decodesBack(c, frames[0]!, encoded.get(c.key)![0]!));
  const perRound = await measureRounds(encoded, options);
  const figures = Object.fromEntries(
    codecs.map((c) => {
      const bytes = encoded.get(c.key)!.map((b) => b.byteLength);
      const eventsPerSecond = median(perRound.get(c.key)!);
      const bytesPerFrame = bytes.reduce((a, b) => a + b, 0) / bytes.length;
      return [c.key, { eventsPerSecond, rounds: perRound.get(c.key)!, bytesPerFrame }];
    }),
  ) as Record<Codec['key'], { eventsPerSecond: number; rounds: number[]; bytesPerFrame: number }>;
  const ok = wrong.length === 0;
  return {
    scenario: name,
    ok,
    ...(ok ? {} : { failure: `decoded differently: ${wrong.map((c) => c.key).join(', ')}` }),
    figures: { eventsPerFrame: options.eventsPerFrame, distinctFrames, ...figures },
    table: table(figures, options.eventsPerFrame),
    notes: [
      `${distinctFrames} distinct frames of ${options.eventsPerFrame} events each ` +
        '(bench/event-frames.ts: id, type, ts, userId, props.path, props.ms), decoded in turn ' +
        `on one core by the server’s decoders (src/ingest/decode-frame.ts); ${rounds} rounds ` +
        'with the codecs interleaved, median shown. Records carry their own definitions in ' +
        'every frame (no shared structures), as a client’s frames do. Decoding only: ' +
        'validation, de-duplication and storage come after it and cost the same for each.',
    ],
  };
}

/** Events/s of each codec in each round, after one unmeasured slice each. */
async function measureRounds(encoded: Map<Codec['key'], Uint8Array[]>, options: BenchOptions) {
  const warmupMs = (options.warmupSeconds * 1000) / codecs.length;
  for (const c of codecs) decodeFor(c, encoded.get(c.key)!, warmupMs);
  const sliceMs = (options.measureSeconds * 1000) / (rounds * codecs.length);
  const perRound = new Map(codecs.map((c) => [c.key, [] as number[]]));
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < codecs.length; i += 1) {
      const c = codecs[(round + i) % codecs.length]!;
      const { decoded, ms } = decodeFor(c, encoded.get(c.key)!, sliceMs);
      perRound.get(c.key)!.push((decoded * options.eventsPerFrame * 1000) / ms);
      await yieldToLoop(); // the runner's watchdog and signals still get their turn
    }
  }
  return perRound;
}

/** Decodes frames in turn for `ms` of wall time, checking the clock every 32 frames. */
function decodeFor(c: Codec, frames: Uint8Array[], ms: number) {
  const started = performance.now();
  let decoded = 0;
  let elapsed: number;
  do {
    for (let i = 0; i < 32; i += 1) c.decode(frames[(decoded + i) % frames.length]!);
    decoded += 32;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return { decoded, ms: elapsed };
}

function decodesBack(c: Codec, frame: object, bytes: Uint8Array): boolean {
  return JSON.stringify(c.decode(bytes)) === JSON.stringify(frame);
}

type Figures = Record<Codec['key'], { eventsPerSecond: number; bytesPerFrame: number }>;

function table(f: Figures, eventsPerFrame: number): ScenarioResult['table'] {
  const rows: ScenarioResult['table'] = codecs.map((c) => [
    `${c.label}: events/s decoded / bytes per ${eventsPerFrame}-event frame`,
    `${count(f[c.key].eventsPerSecond)} / ${count(f[c.key].bytesPerFrame)} B`,
  ]);
  rows.push([
    '**records ÷ maps, records ÷ JSON** (decode speed)',
    `${ratio(f.records.eventsPerSecond, f.maps.eventsPerSecond)} / ` +
      `${ratio(f.records.eventsPerSecond, f.json.eventsPerSecond)}`,
  ]);
  rows.push([
    'records ÷ maps, records ÷ JSON (bytes)',
    `${ratio(f.records.bytesPerFrame, f.maps.bytesPerFrame)} / ` +
      `${ratio(f.records.bytesPerFrame, f.json.bytesPerFrame)}`,
  ]);
  return rows;
}
