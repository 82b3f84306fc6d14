import { Packr } from 'msgpackr';

// Records on (msgpackr's default) and no shared structures: each frame carries its own record
// definitions, as a real client's would, and records are what the server decodes fastest
// (3.0M events/s against 0.85M for plain maps, LIMITS.md).
const packr = new Packr();

/** Distinct users and paths; small enough that later rollups group, large enough to vary. */
const distinctKeys = 1000;

/**
 * Returns an encoder of one connection's `events` frames. Ids are `<prefix><seq>.<i>`, so
 * a prefix unique per run and connection keeps the server's de-duplication out of the figures.
 *
 * @example
 * const frame = createFrameEncoder('a1b2-7-', 100);
 * socket.send(frame(0));
 */
export function createFrameEncoder(prefix: string, eventsPerFrame: number) {
  return (seq: number): Uint8Array => {
    const ts = Date.now();
    const events = new Array<object>(eventsPerFrame);
    for (let i = 0; i < eventsPerFrame; i += 1) {
      const k = (seq * eventsPerFrame + i) % distinctKeys;
      events[i] = {
        id: `${prefix}${seq}.${i}`,
        type: 'page.view',
        ts,
        userId: `u${k}`,
        props: { path: `/shows/${k}`, ms: Math.round(Math.random() * 5000) / 10 },
      };
    }
    return packr.pack({ t: 'events', seq, events });
  };
}
