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
  /** A frame the profile gave and the connection closed before sending (it waited to drain). */
  unsent?(out: Outgoing): void;
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
): Promise<'closed' | 'done'> {
  return new Promise((resolve) => {
    const socket = new DrivenSocket(ws, profile, tally, options);
    ws.on('message', (data: RawData) => socket.answer(data));
    ws.on('error', () => undefined); // always followed by 'close'
    ws.once('close', (code) => resolve(socket.closed(code)));
    for (const data of early) socket.answer(data);
    socket.fill();
  });
}

/** One open socket of a lane: what it owes, what it sent, and how it ends. */
class DrivenSocket {
  private readonly transport: string;
  /** Valid batches sent and not yet answered. */
  private readonly valid = new Set<number>();
  private owed = 0;
  private finished = false; // the profile has no more frames
  private stopped = false; // the server is about to close the socket
  private closingByUs = false;
  private held: Outgoing | undefined;
  private lastAnswer = 'none';
  private readonly recent: string[] = [];
  private dropSent = false;
  private waitingSince = performance.now();
  private stall: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly profile: SocketProfile,
    private readonly tally: Tally,
    private readonly options: LaneOptions,
  ) {
    this.transport = profile.transport;
  }

  /** Sends until `window` frames are owed, the profile runs out, or a frame must wait. */
  fill(): void {
    const { ws, options } = this;
    while (
      !this.finished &&
      !this.stopped &&
      ws.readyState === WebSocket.OPEN &&
      this.owed < options.window
    ) {
      const out = this.held ?? this.profile.next();
      this.held = undefined;
      if (!out) this.finished = true;
      else if (out.drainFirst && this.owed > 0) this.held = out;
      else {
        this.send(out);
        continue;
      }
      break;
    }
    if (this.owed > 0) this.armStall();
    else clearTimeout(this.stall);
    if (this.finished && this.owed === 0 && ws.readyState === WebSocket.OPEN) {
      this.closingByUs = true;
      ws.close(1000, 'done');
    }
  }

  private send(out: Outgoing): void {
    const { tally } = this;
    if (out.input) bump(tally.inputs, out.input);
    if (out.validSeq !== undefined) this.valid.add(out.validSeq);
    this.ws.send(out.data, { binary: out.binary });
    if (this.owed === 0) this.waitingSince = performance.now();
    if (out.drops) this.dropSent = true;
    else this.owed += 1;
    this.stopped ||= Boolean(out.drops || out.closes);
  }

  /** A message from the server: counted, and the frames it settles no longer owed. */
  answer(data: RawData): void {
    const { tally, transport } = this;
    const msg = decode(data);
    if (!msg) return bump(tally.clientErrors, `${transport}:undecodable answer`);
    const key = msg.t === 'error' ? String(msg.code) : String(msg.t);
    const waited = Math.round(performance.now() - this.waitingSince);
    tally.longestWaitMs[transport] = Math.max(tally.longestWaitMs[transport] ?? 0, waited);
    this.waitingSince = performance.now();
    this.lastAnswer = key;
    this.recent.push(key);
    if (this.recent.length > 12) this.recent.shift();
    bump(tally.answers, `${transport}:${key}`);
    if (key === 'INTERNAL') sample(tally, `${transport} INTERNAL`, String(msg.msg));
    if (typeof msg.seq === 'number') this.valid.delete(msg.seq);
    this.owed = Math.max(0, this.owed - this.profile.answered(msg));
    this.fill();
  }

  /** Frames still owed after `stallMs` of silence: counted unanswered, and the socket cut. */
  private armStall(): void {
    clearTimeout(this.stall);
    this.stall = setTimeout(() => {
      const { tally, transport, owed } = this;
      const last = `${owed} owed after ${this.options.stallMs} ms; last answer ${this.lastAnswer}`;
      sample(tally, `${transport} unanswered`, last);
      bump(tally.unanswered, transport, owed);
      this.owed = 0;
      this.closingByUs = true;
      this.ws.terminate();
    }, this.options.stallMs);
  }

  closed(code: number): 'closed' | 'done' {
    const { tally, transport } = this;
    clearTimeout(this.stall);
    // A 1008 crossing our own close (a closing run that ended the lane's inputs) is the server's.
    if (!this.closingByUs || code === 1008) bump(tally.closes, `${transport}:${code}`);
    // Closed for bad frames outside a closing run: the answers that led there, to look into.
    if (code === 1008 && !this.stopped)
      sample(tally, `${transport} 1008 outside a closing run`, this.recent.join(','));
    if (this.owed > 0) bump(tally.lost, transport, this.owed);
    // An oversized frame drops the connection (1006); closed first for another reason, the
    // server never read it.
    if (this.dropSent) bump(code === 1006 ? tally.dropping : tally.lost, transport);
    if (this.held) this.profile.unsent?.(this.held);
    this.profile.closed?.([...this.valid]);
    return this.finished ? 'done' : 'closed';
  }
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
