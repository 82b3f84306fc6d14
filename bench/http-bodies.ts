import { Packr } from 'msgpackr';

export type BodyFormat = 'msgpack' | 'json';

export const contentTypes: Record<BodyFormat, string> = {
  msgpack: 'application/msgpack',
  json: 'application/json',
};

// Records on, as for socket frames (event-frames.ts): what a well-behaved client sends.
const packr = new Packr();

/**
 * Returns a maker of `POST /v1/events` bodies: each call a new body whose ids no other body
 * of the run has, so the server's de-duplication stays out of the figures.
 *
 * @example
 * const next = createBodyMaker('json', 100, 'a1b2');
 * request.body = next();
 */
export function createBodyMaker(format: BodyFormat, eventsPerBody: number, runId: string) {
  let n = 0;
  return (): Buffer => {
    n += 1;
    const ts = Date.now();
    const events = new Array<object>(eventsPerBody);
    for (let i = 0; i < eventsPerBody; i += 1) {
      events[i] = {
        id: `${runId}-${n}.${i}`,
        type: 'page.view',
        ts,
        userId: `u${i}`,
        props: { path: `/shows/${n % 1000}`, ms: Math.round(Math.random() * 5000) / 10 },
      };
    }
    return format === 'json' ? Buffer.from(JSON.stringify({ events })) : packr.pack({ events });
  };
}
