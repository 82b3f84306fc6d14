/** What the fuzzer sent and what came back, counted per worker and summed by the runner. */

export type Counts = Record<string, number>;

export interface Tally {
  /** Inputs sent, `<target>:<kind>` (target: ingest, live, user, http, raw-http, handshake). */
  inputs: Counts;
  /** Socket answers, `<transport>:<code>` for errors, `<transport>:<t>` for the rest. */
  answers: Counts;
  /** Event-level codes in acks and HTTP batch answers (`rejected[].code`). */
  eventRejects: Counts;
  /** Upgrades refused, by the code of the answer's body (`opened` for those let in). */
  upgrades: Counts;
  /** HTTP answers written by backline, by status, and by `code` where the body had one. */
  httpStatus: Counts;
  httpCodes: Counts;
  /** Malformed requests over raw TCP: backline's status, or what uWS or the socket did. */
  raw: Counts;
  /** Sockets the server closed, `<transport>:<close code>`. */
  closes: Counts;
  /** Frames still owed an answer when the server closed their socket, per transport. */
  lost: Counts;
  /** Frames owed an answer after `stallMs` of silence on an open socket: a hang. */
  unanswered: Counts;
  /** Frames past uWS's payload limit, each of which should end its connection (1006). */
  dropping: Counts;
  /** Failures of the fuzzer itself (a connect refused by the OS …), never the server's. */
  clientErrors: Counts;
  /** The longest wait for an owed answer on each transport, in ms (summed as a maximum). */
  longestWaitMs: Counts;
  /** A few inputs behind each anomaly (an INTERNAL answer, no answer), to replay them. */
  samples: Record<string, string[]>;
}

export const emptyTally = (): Tally => ({
  inputs: {},
  answers: {},
  eventRejects: {},
  upgrades: {},
  httpStatus: {},
  httpCodes: {},
  raw: {},
  closes: {},
  lost: {},
  unanswered: {},
  dropping: {},
  clientErrors: {},
  longestWaitMs: {},
  samples: {},
});

const samplesKept = 10;

/** Keeps `input` as an example of `anomaly`, up to `samplesKept` of each. */
export function sample(tally: Tally, anomaly: string, input: string): void {
  const kept = (tally.samples[anomaly] ??= []);
  if (kept.length < samplesKept) kept.push(input);
}

export const bump = (counts: Counts, key: string, by = 1): void => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** `into` plus every count of `from`. */
export function addTally(into: Tally, from: Tally): Tally {
  for (const field of Object.keys(into) as Array<keyof Tally>) {
    if (field === 'samples') continue;
    if (field === 'longestWaitMs') {
      for (const [key, ms] of Object.entries(from[field]))
        into[field][key] = Math.max(into[field][key] ?? 0, ms);
      continue;
    }
    for (const [key, n] of Object.entries(from[field])) bump(into[field], key, n);
  }
  for (const [anomaly, inputs] of Object.entries(from.samples))
    for (const input of inputs) sample(into, anomaly, input);
  return into;
}

export const total = (counts: Counts, prefix = ''): number =>
  Object.entries(counts)
    .filter(([key]) => key.startsWith(prefix))
    .reduce((sum, [, n]) => sum + n, 0);

/** Counts whose key starts with `prefix`, the prefix taken off. */
export function under(counts: Counts, prefix: string): Counts {
  const out: Counts = {};
  for (const [key, n] of Object.entries(counts))
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = n;
  return out;
}
