/** A small seeded PRNG (mulberry32): the same seed gives the same events on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedEvent {
  id: string;
  type: string;
  ts: number;
  userId: string;
  props: { g: string; v: number };
}

export interface GeneratorOptions {
  seed: number;
  /** Event time of the first burst, aligned to the window sizes. */
  t0: number;
  events: number;
  bursts: number; // events come in bursts every burstEveryMs, each burstSpanMs long
  burstEveryMs: number;
  burstSpanMs: number;
  groups: number;
  users: number;
  /** Arrival order is event time plus up to this much jitter: never late for a larger out-of-orderness. */
  shuffleMs: number;
}

/**
 * Events with known answers for the window tests: bursts of event time per group, values
 * and users drawn from the seed, sent in an order shuffled within `shuffleMs`.
 */
export function generateEvents(options: GeneratorOptions): {
  inOrder: GeneratedEvent[];
  arrival: GeneratedEvent[];
} {
  const random = seeded(options.seed);
  const inOrder: GeneratedEvent[] = [];
  for (let i = 0; i < options.events; i++) {
    const burst = Math.floor(random() * options.bursts);
    inOrder.push({
      id: `main-${i}`,
      type: 'acc',
      ts: options.t0 + burst * options.burstEveryMs + Math.floor(random() * options.burstSpanMs),
      userId: `u${Math.floor(random() * options.users)}`,
      props: { g: `g${Math.floor(random() * options.groups)}`, v: Math.floor(random() * 1000) },
    });
  }
  const arrival = inOrder
    .map((event) => ({ event, order: event.ts + random() * options.shuffleMs }))
    .sort((a, b) => a.order - b.order)
    .map(({ event }) => event);
  return { inOrder: inOrder.sort((a, b) => a.ts - b.ts), arrival };
}
