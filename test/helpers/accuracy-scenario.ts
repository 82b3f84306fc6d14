import { generateEvents, seeded, type GeneratedEvent } from './event-generator.js';

export const outOfOrderMs = 1500;
export const allowedLatenessMs = 4000;

/** Every aggregate the windows are checked for: exact ones and a sketch. */
export const accuracyAggregates = [
  { name: 'n', fn: 'count' },
  { name: 'total', fn: 'sum', field: 'props.v' },
  { name: 'lo', fn: 'min', field: 'props.v' },
  { name: 'hi', fn: 'max', field: 'props.v' },
  { name: 'mean', fn: 'avg', field: 'props.v' },
  { name: 'users', fn: 'uniq', field: 'userId' },
  { name: 'q', fn: 'quantiles', field: 'props.v', q: [0.5, 0.9] },
];

/** The three window kinds over the same events, grouped by `props.g`. */
export const accuracyWindows = {
  acc_tumbling: { kind: 'tumbling', sizeMs: 1000 },
  acc_hopping: { kind: 'hopping', sizeMs: 2000, slideMs: 500 },
  acc_session: { kind: 'session', gapMs: 300 },
} as const;

export type AccuracyStream = keyof typeof accuracyWindows;
export const accuracyStreamNames = Object.keys(accuracyWindows) as AccuracyStream[];

/** The streams as project configuration (`projects[].streams`). */
export const accuracyStreams = accuracyStreamNames.map((name) => ({
  name,
  source: { types: ['acc'] },
  groupBy: ['props.g'],
  aggregates: accuracyAggregates,
  window: accuracyWindows[name],
  outOfOrderMs,
  allowedLatenessMs,
  // No idle ticks: the watermark moves with events only, so results do not depend on timing.
  idleTickMs: 600_000,
}));

/**
 * The seeded events of the window-accuracy tests, with event time from `t0` (aligned to 10 s,
 * in the past): 3,000 events in 20 bursts of 200 ms, 500 ms apart, arriving shuffled within
 * 1 s (under `outOfOrderMs`); resent copies; events late within `allowedLatenessMs`; events
 * too late; and two events of their own group (`flush`) that move the watermark past the last
 * burst, then past every lateness.
 *
 * @example
 * const s = accuracyScenario(t0);
 * for (const frame of s.frames) await send(frame);
 */
export function accuracyScenario(t0: number) {
  const { arrival } = generateEvents({
    seed: 7,
    t0,
    events: 3000,
    bursts: 20,
    burstEveryMs: 500,
    burstSpanMs: 200,
    groups: 4,
    users: 200,
    shuffleMs: 1000,
  });
  const random = seeded(99);
  // Resent copies of events already taken (a client retrying frames whose ack it missed).
  const duplicates = arrival.slice(0, 2000).filter(() => random() < 0.05);
  // Late but within the lateness: inside burst 16 (its windows have closed), between the first
  // and last event of the same group there, so session windows keep their start.
  const lateWithin: GeneratedEvent[] = Array.from({ length: 30 }, (_, i) => {
    const g = `g${i % 4}`;
    const times = arrival
      .filter((e) => e.props.g === g && e.ts >= t0 + 8000 && e.ts < t0 + 8200)
      .map((e) => e.ts);
    const [lo, hi] = [Math.min(...times), Math.max(...times)];
    return {
      id: `late-${i}`,
      type: 'acc',
      ts: lo + Math.floor(random() * (hi - lo)),
      userId: `u${i}`,
      props: { g, v: 2000 + i },
    };
  });
  const tooLate: GeneratedEvent[] = Array.from({ length: 20 }, (_, i) => ({
    id: `toolate-${i}`,
    type: 'acc',
    ts: t0 + 50 + i,
    userId: 'late-user',
    props: { g: 'g0', v: 5000 },
  }));
  const pusher = (id: string, ts: number): GeneratedEvent => ({
    id,
    type: 'acc',
    ts,
    userId: 'p',
    props: { g: 'flush', v: 0 },
  });
  const push1 = pusher('push-1', t0 + 10_000 + outOfOrderMs + 1);
  const push2 = pusher('push-2', t0 + 10_000 + outOfOrderMs + allowedLatenessMs + 2000 + 1);
  /** Events the windows count: each id once, too-late and flush events left out. */
  const counted = [...arrival, ...lateWithin];
  /** Every distinct id sent (what storage holds). */
  const unique = [...arrival, ...lateWithin, ...tooLate, push1, push2];
  return { arrival, duplicates, lateWithin, tooLate, push1, push2, counted, unique };
}

export type AccuracyScenario = ReturnType<typeof accuracyScenario>;

/** `events` in frames of at most `size`. */
export const framesOf = <T>(events: readonly T[], size = 100): T[][] =>
  Array.from({ length: Math.ceil(events.length / size) }, (_, i) =>
    events.slice(i * size, (i + 1) * size),
  );
