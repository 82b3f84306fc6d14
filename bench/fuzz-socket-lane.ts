import { unpack } from 'msgpackr';
import WebSocket, { type RawData } from 'ws';
import { bump, sample, type Tally } from './fuzz-tally.js';

/** One frame a lane sends, and whether the server owes it exactly one answer. */
export interface Outgoing {
  /** `<target>:<kind>` in the tally's inputs; absent for probes that are no fuzz input. */
  input?: string;
  data: Buffer | string;
  binary: boolean;
  /** Past uWS's payload limit: the server drops the connection instead of answering. */
  drops?: boolean;
  /** A valid events batch, to tell the tracker when its socket goes. */
  validSeq?: number;
  /** Sent only once every earlier frame is answered (a run meant to get the socket closed). */
  drainFirst?: boolean;
  /** The server closes the socket after this one: nothing more is sent on it. */
  closes?: boolean;
}

/** What one connection of a lane needs: where to connect and how to read its answers. */
export interface SocketProfile {
  transport: 'ws' | 'live' | 'user';
  url: string;
  headers?: Record<string, string>;
  /** The next frame to send, or undefined when the lane's inputs are spent. */
  next(): Outgoing | undefined;
  /** How many owed answers `msg` settles (0 for pushes the server sends unasked). */
  answered(msg: Record<string, unknown>): number;
  /** The valid batches sent on this connection and not yet answered, when it closes. */
  closed?(validSeqs: number[]): void;
}

export interface LaneOptions {
  /** Frames outstanding at most on one socket. */
  window: number;
  /** Silence after which the frames owed an answer count as unanswered (ms). */
  stallMs: number;
  connectTimeoutMs: number;
}

/**
 * Runs one connection to its end: keeps `window` frames outstanding, counts each answer and
 * close, and resolves when the server closed the socket (the caller reconnects), the lane ran
 * out of inputs and every answer came, or the server stayed silent for `stallMs`.
 */
export async function runConnection(
  profile: SocketProfile,
  tally: Tally,
  options: LaneOptions,
): Promise<'closed' | 'done' | 'refused'> {
  const ws = new WebSocket(profile.url, {
    headers: profile.headers,
    perMessageDeflate: false,
    handshakeTimeout: options.connectTimeoutMs,
    maxPayload: 64 * 1024 * 1024,
  });
  // A message in the same read as the upgrade's answer is emitted right after 'open', before
  // the continuation below runs: kept here, or the user socket's first `counts` would be lost.
  const early: RawData[] = [];
  const keep = (data: RawData) => early.push(data);
  ws.on('message', keep);
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('unexpected-response', (_req, res) => {
      bump(tally.clientErrors, `${profile.transport}:upgrade ${res.statusCode ?? 0}`);
      res.resume();
      ws.terminate();
      resolve(false);
    });
    ws.once('error', (err) => {
      bump(
        tally.clientErrors,
        `${profile.transport}:${(err as NodeJS.ErrnoException).code ?? err.message}`,
      );
      resolve(false);
    });
  });
  if (!opened) return 'refused';
  ws.off('message', keep);
  return drive(ws, profile, tally, options, early);
}

function drive(
  ws: WebSocket,
  profile: SocketProfile,
  tally: Tally,
  options: LaneOptions,
  early: RawData[],
) {
  const { transport } = profile;
  const valid = new Set<number>();
  let owed = 0;
  let finished = false; // the profile has no more frames
  let stopped = false; // the server is about to close the socket
  let closingByUs = false;
  let held: Outgoing | undefined;
  let lastAnswer = 'none';
  let stall: NodeJS.Timeout | undefined;
  return new Promise<'closed' | 'done'>((resolve) => {
    let waitingSince = performance.now();
    const armStall = () => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        const last = `${owed} owed after ${options.stallMs} ms; last answer ${lastAnswer}`;
        sample(tally, `${transport} unanswered`, last);
        bump(tally.unanswered, transport, owed);
        owed = 0;
        closingByUs = true;
        ws.terminate();
      }, options.stallMs);
    };
    const fill = () => {
      while (!finished && !stopped && ws.readyState === WebSocket.OPEN && owed < options.window) {
        const out = held ?? profile.next();
        held = undefined;
        if (!out) {
          finished = true;
          break;
        }
        if (out.drainFirst && owed > 0) {
          held = out;
          break;
        }
        if (out.input) bump(tally.inputs, out.input);
        if (out.validSeq !== undefined) valid.add(out.validSeq);
        ws.send(out.data, { binary: out.binary });
        if (owed === 0) waitingSince = performance.now();
        if (out.drops) bump(tally.dropping, transport);
        else owed += 1;
        stopped ||= Boolean(out.drops || out.closes);
      }
      if (owed > 0) armStall();
      else clearTimeout(stall);
      if (finished && owed === 0 && ws.readyState === WebSocket.OPEN) {
        closingByUs = true;
        ws.close(1000, 'done');
      }
    };
    const onMessage = (data: RawData) => {
      const msg = decode(data);
      if (!msg) return bump(tally.clientErrors, `${transport}:undecodable answer`);
      const key = msg.t === 'error' ? String(msg.code) : String(msg.t);
      const waited = Math.round(performance.now() - waitingSince);
      tally.longestWaitMs[transport] = Math.max(tally.longestWaitMs[transport] ?? 0, waited);
      waitingSince = performance.now();
      lastAnswer = key;
      bump(tally.answers, `${transport}:${key}`);
      if (key === 'INTERNAL') sample(tally, `${transport} INTERNAL`, String(msg.msg));
      if (typeof msg.seq === 'number') valid.delete(msg.seq);
      owed = Math.max(0, owed - profile.answered(msg));
      fill();
    };
    ws.on('message', onMessage);
    ws.on('error', () => undefined); // always followed by 'close'
    ws.once('close', (code) => {
      clearTimeout(stall);
      if (!closingByUs) bump(tally.closes, `${transport}:${code}`);
      if (owed > 0) bump(tally.lost, transport, owed);
      profile.closed?.([...valid]);
      resolve(finished ? 'done' : 'closed');
    });
    for (const data of early) onMessage(data);
    fill();
  });
}

function decode(data: RawData): Record<string, unknown> | undefined {
  try {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const value: unknown = unpack(bytes);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
