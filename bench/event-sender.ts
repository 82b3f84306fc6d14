import WebSocket, { type RawData } from 'ws';
import { decode } from './ingest-client.js';
import { machineNow } from './machine-clock.js';

/** How one frame ended: its ack's time and counts, or the error code that refused it. */
export interface FrameOutcome {
  /** `machineNow()` when the reply arrived. */
  at: number;
  accepted: number;
  /** Set when the frame was refused (`{t:"error"}`) or the socket closed first. */
  code?: string;
}

export interface SentFrame {
  seq: number;
  /** `machineNow()` just before the frame was handed to the socket. */
  sentAt: number;
  /** Never rejects: a refusal or a lost socket resolves with `code`. */
  outcome: Promise<FrameOutcome>;
}

export interface EventSender {
  /** Sends the frame `encode` builds for the next seq. */
  send(encode: (seq: number) => Uint8Array): SentFrame;
  /** Frames sent and not yet answered. */
  outstanding(): number;
  close(): Promise<void>;
}

/**
 * One ingest socket in the runner's own process, for the scenarios that time single frames
 * (a fan-out round, an end-to-end marker, a ping) rather than load the server.
 *
 * @example
 * const sender = await openEventSender(`ws://127.0.0.1:${port}/v1/ingest?key=${key}`);
 * const frame = sender.send((seq) => encodeEvents(seq, [event]));
 * const { at } = await frame.outcome; // ack time, machine clock
 */
export function openEventSender(url: string, connectTimeoutMs = 10_000): Promise<EventSender> {
  const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: connectTimeoutMs });
  const waiting = new Map<number, (outcome: FrameOutcome) => void>();
  let nextSeq = 0;
  const settle = (seq: unknown, outcome: FrameOutcome) => {
    const resolve = typeof seq === 'number' ? waiting.get(seq) : undefined;
    waiting.delete(seq as number);
    resolve?.(outcome);
  };
  ws.on('message', (data: RawData) => {
    const at = machineNow();
    const msg = decode(data);
    if (msg?.t === 'ack') settle(msg.seq, { at, accepted: Number(msg.accepted) || 0 });
    else if (msg?.t === 'error') settle(msg.seq, { at, accepted: 0, code: String(msg.code) });
  });
  const closed = new Promise<void>((resolve) => {
    ws.once('close', () => {
      for (const seq of [...waiting.keys()])
        settle(seq, { at: machineNow(), accepted: 0, code: 'CLOSED' });
      resolve();
    });
  });
  const sender: EventSender = {
    send(encode) {
      const seq = nextSeq++;
      const frame = encode(seq);
      const outcome = new Promise<FrameOutcome>((resolve) => waiting.set(seq, resolve));
      const sentAt = machineNow();
      ws.send(frame);
      return { seq, sentAt, outcome };
    },
    outstanding: () => waiting.size,
    async close() {
      ws.close(1000, 'bench done');
      const timer = setTimeout(() => ws.terminate(), 2000);
      await closed;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`ingest socket refused: HTTP ${res.statusCode ?? 0}`));
      ws.terminate();
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.on('error', () => undefined); // followed by 'close', which settles what is waiting
      resolve(sender);
    });
  });
}
