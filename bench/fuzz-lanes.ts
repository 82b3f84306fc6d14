/**
 * The socket lanes of a fuzz worker: each holds one connection at a time to its endpoint,
 * sends its share of hostile frames with valid ones between them, and reconnects whenever
 * the server closes the socket (as it must after a run of bad frames or an oversized one).
 */
import type { FuzzCredentials } from './fuzz-credentials.js';
import type { Frame, FrameLimits } from './fuzz-frames.js';
import { ingestFrame } from './fuzz-ingest-frames.js';
import { liveFrame, liveProbe, userFrame, userProbe, type LiveStreams } from './fuzz-messages.js';
import type { Random } from './fuzz-random.js';
import {
  runConnection,
  type LaneOptions,
  type Outgoing,
  type SocketProfile,
} from './fuzz-socket-lane.js';
import { bump, type Tally } from './fuzz-tally.js';
import type { ValidEvents } from './fuzz-valid.js';

export type Target = 'ingest' | 'live' | 'user' | 'http' | 'raw-http' | 'handshake';

/** The bench project's streams by access, and the other project's. */
export interface StreamNames {
  private: string[];
  users: string[];
  public: string[];
  other: string[];
  /** Readable by every caller of the project and never redefined by the HTTP fuzzing. */
  stable: string[];
}

export interface WorkerContext {
  port: number;
  creds: FuzzCredentials;
  random: Random;
  tally: Tally;
  valid: ValidEvents;
  /** Hostile inputs left per target. */
  budgets: Record<Target, number>;
  streams: StreamNames;
  limits: Record<'ingest' | 'live' | 'user', FrameLimits>;
  /** Valid user JWTs, one per user lane (users of their own, so no socket sees another's marks). */
  laneJwts: string[];
  laneOptions: LaneOptions;
  /** Epoch ms after which lanes stop, whatever is left. */
  deadline: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects again and again until the lane's profile runs out of frames or the deadline passes. */
export async function runLane(ctx: WorkerContext, profile: () => SocketProfile): Promise<void> {
  while (Date.now() < ctx.deadline) {
    const outcome = await runConnection(profile(), ctx.tally, ctx.laneOptions);
    if (outcome === 'done') return;
    if (outcome === 'refused') await sleep(200);
  }
}

function take(ctx: WorkerContext, target: Target): boolean {
  if (ctx.budgets[target] <= 0) return false;
  ctx.budgets[target] -= 1;
  return true;
}

/**
 * The order of a socket's frames: runs of 1–8 hostile ones, each followed by a valid one
 * that resets the server's count of bad frames in a row, so the socket stays open and many
 * frames can be in flight. One run in 200 is 11 text frames sent once all else is answered:
 * the server must answer ten and close the socket (1008), and the lane reconnects.
 */
function interleave(random: Random) {
  let hostileLeft = 0;
  let closingRun = 0;
  return (): 'hostile' | 'valid' | 'closing' | 'closing-first' | 'closing-last' => {
    if (closingRun > 0) {
      closingRun -= 1;
      return closingRun === 10 ? 'closing-first' : closingRun === 0 ? 'closing-last' : 'closing';
    }
    if (hostileLeft-- > 0) return 'hostile';
    hostileLeft = 1 + random.int(8);
    if (random.chance(0.005)) closingRun = 11;
    return 'valid';
  };
}

/** A lane's next frame: hostile from `hostile`, or the valid `probe` between runs. */
function nextFrame(
  ctx: WorkerContext,
  target: Target,
  turn: ReturnType<typeof interleave>,
  hostile: () => Frame,
  probe: () => Outgoing,
): Outgoing | undefined {
  if (ctx.budgets[target] <= 0) return undefined;
  const next = turn();
  if (next === 'valid') return probe();
  take(ctx, target);
  if (next !== 'hostile') {
    const drainFirst = next === 'closing-first';
    const closes = next === 'closing-last';
    const data = 'not msgpack';
    return { input: `${target}:closing-run`, data, binary: false, drainFirst, closes };
  }
  const frame = hostile();
  // Sent once all else is answered: the connection it ends then takes no answer with it.
  const drops = frame.kind === 'dropped-size';
  const out = { input: `${target}:${frame.kind}`, data: frame.data, binary: frame.binary };
  return { ...out, drops, drainFirst: drops };
}

/** `/v1/ingest` with the project's key (query or header): hostile frames and valid batches. */
export function ingestProfile(ctx: WorkerContext): SocketProfile {
  const { random, valid, creds, tally } = ctx;
  const inHeader = random.chance(0.5);
  const turn = interleave(random);
  return {
    transport: 'ws',
    url: `ws://127.0.0.1:${ctx.port}/v1/ingest${inHeader ? '' : `?key=${creds.key}`}`,
    headers: inHeader ? { authorization: `Bearer ${creds.key}` } : undefined,
    next() {
      const validFrame = (): Outgoing => {
        const { seq, bytes } = valid.frame();
        return { data: bytes, binary: true, validSeq: seq };
      };
      if (ctx.budgets.ingest <= 0) return valid.pending() > 0 ? validFrame() : undefined;
      return nextFrame(
        ctx,
        'ingest',
        turn,
        () => ingestFrame(random, ctx.limits.ingest),
        validFrame,
      );
    },
    answered(msg) {
      const { seq } = msg;
      if (msg.t === 'ack') {
        const rejected = Array.isArray(msg.rejected)
          ? (msg.rejected as Array<{ code?: unknown }>)
          : [];
        for (const r of rejected) bump(tally.eventRejects, String(r.code));
        if (valid.isValidSeq(seq))
          valid.acked(seq, Number(msg.accepted), Number(msg.duplicates), rejected.length);
        return 1;
      }
      if (msg.t !== 'error') return 0;
      if (valid.isValidSeq(seq)) valid.refused(seq, String(msg.code));
      return 1;
    },
    closed: (seqs) => seqs.forEach((seq) => valid.lost(seq)),
    unsent: (out) => void (out.input && (ctx.budgets.ingest += 1)),
  };
}

/** `/v1/live` as a key, a user, nobody or another project: subs to streams it may and may not read. */
export function liveProfile(ctx: WorkerContext, lane: number): SocketProfile {
  const { random, creds, streams: s } = ctx;
  const base = `ws://127.0.0.1:${ctx.port}/v1/live`;
  const turn = interleave(random);
  const probe = s.stable;
  const as = random.weighted<[string, LiveStreams]>([
    [
      3,
      [
        `?key=${creds.key}`,
        { own: [...s.private, ...s.users, ...s.public], other: s.other, probe },
      ],
    ],
    [
      2,
      [
        `?token=${ctx.laneJwts[lane]}`,
        { own: [...s.users, ...s.public], other: [...s.private, ...s.other], probe },
      ],
    ],
    [
      1,
      [
        `?project=${creds.project}`,
        { own: s.public, other: [...s.private, ...s.users, ...s.other], probe },
      ],
    ],
    [
      1,
      [
        `?key=${creds.otherKey}`,
        { own: s.other, other: [...s.private, ...s.public], probe: s.other },
      ],
    ],
  ]);
  return {
    transport: 'live',
    url: `${base}${as[0]}`,
    next: () =>
      nextFrame(
        ctx,
        'live',
        turn,
        () => liveFrame(random, as[1], ctx.limits.live),
        () => ({ data: liveProbe(random, as[1], `p${random.int(10)}`), binary: true }),
      ),
    answered: (msg) => (['error', 'snapshot', 'unsubscribed'].includes(String(msg.t)) ? 1 : 0),
    unsent: () => void (ctx.budgets.live += 1),
  };
}

/** `/v1/user` as the lane's own user, by a backline user token or a JWT. */
export function userProfile(ctx: WorkerContext, lane: number): SocketProfile {
  const { random, creds } = ctx;
  const token = random.chance(0.5) ? creds.userTokens[lane]! : ctx.laneJwts[lane]!;
  const inHeader = random.chance(0.3);
  let opened = false; // the first `counts` answers the open, not a frame
  const turn = interleave(random);
  return {
    transport: 'user',
    url: `ws://127.0.0.1:${ctx.port}/v1/user${inHeader ? '' : `?token=${token}`}`,
    headers: inHeader ? { authorization: `Bearer ${token}` } : undefined,
    next: () =>
      nextFrame(
        ctx,
        'user',
        turn,
        () => userFrame(random, ctx.limits.user),
        () => ({ data: userProbe(random), binary: true }),
      ),
    answered(msg) {
      if (msg.t === 'error') return 1;
      if (msg.t !== 'counts') return 0;
      if (opened) return 1;
      opened = true;
      return 0;
    },
    unsent: () => void (ctx.budgets.user += 1),
  };
}
