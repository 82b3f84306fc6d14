import { Packr } from 'msgpackr';

// Records on (msgpackr's default) and no shared structures: each frame carries its own record
// definitions, as a real client's would, and records are what the server decodes fastest
// (the `codec` scenario, bench/codec.ts, measures them against plain maps and JSON).
const packr = new Packr();

/** Distinct users and paths; small enough that later rollups group, large enough to vary. */
const distinctKeys = 1000;

/** A `props.g` group value on every event, for streams that group by it. */
export interface GroupedEvents {
  /** Distinct values `props.g` takes (0 … groups − 1). */
  groups: number;
  /**
   * The connection's first value: connections start apart, so together they cover every
   * value in as few events as there are values.
   */
  firstGroup: number;
}

/**
 * Returns an encoder of one connection's `events` frames. Ids are `<prefix><seq>.<i>`, so
 * a prefix unique per run and connection keeps the server's de-duplication out of the figures.
 *
 * @example
 * const frame = createFrameEncoder('a1b2-7-', 100);
 * socket.send(frame(0));
 */
export function createFrameEncoder(
  prefix: string,
  eventsPerFrame: number,
  grouped?: GroupedEvents,
) {
  return (seq: number): Uint8Array =>
    packr.pack({ t: 'events', seq, events: benchEvents(prefix, seq, eventsPerFrame, grouped) });
}

/**
 * Frame `seq`'s events, the shape every load frame carries: ids `<prefix><seq>.<i>`, a
 * `page.view` with a user and a path out of 1,000 and a duration in `props.ms`.
 */
export function benchEvents(
  prefix: string,
  seq: number,
  eventsPerFrame: number,
  grouped?: GroupedEvents,
): object[] {
  const ts = Date.now();
  const events = new Array<object>(eventsPerFrame);
  for (let i = 0; i < eventsPerFrame; i += 1) {
    const n = seq * eventsPerFrame + i;
    const k = n % distinctKeys;
    const props: Record<string, unknown> = {
      path: `/shows/${k}`,
      ms: Math.round(Math.random() * 5000) / 10,
    };
    if (grouped) props.g = (grouped.firstGroup + n) % grouped.groups;
    events[i] = { id: `${prefix}${seq}.${i}`, type: 'page.view', ts, userId: `u${k}`, props };
  }
  return events;
}

/** One `events` frame of the given events, encoded as the load frames are. */
export function encodeEvents(seq: number, events: readonly object[]): Uint8Array {
  return packr.pack({ t: 'events', seq, events });
}
