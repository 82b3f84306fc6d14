import type { WindowResult } from '../../src/model/window-result.js';
import { connect, type Message, type SocketClient } from './socket-client.js';

/** A window result as `/v1/live` and `/v1/streams/:name/windows` carry it. */
export type LiveWindow = WindowResult;

/** A `{t:"window"}` message's window, for messages already known to be one. */
export const windowOf = (message: Message): LiveWindow => message.w as LiveWindow;

/**
 * Reads messages until one matches, within `timeoutMs`; returns it with every message read
 * before it, so a test can assert on what came first.
 */
export async function nextMatching(
  client: SocketClient,
  match: (message: Message) => boolean,
  timeoutMs: number,
  what: string,
): Promise<{ message: Message; before: Message[] }> {
  const deadline = Date.now() + timeoutMs;
  const before: Message[] = [];
  for (;;) {
    const left = deadline - Date.now();
    let message: Message;
    try {
      if (left <= 0) throw new Error('deadline passed');
      message = await client.nextMessage(left);
    } catch {
      const seen = before.map((m) => JSON.stringify(m).slice(0, 200)).join('\n  ');
      throw new Error(`no ${what} within ${timeoutMs} ms; read instead:\n  ${seen}`);
    }
    if (match(message)) return { message, before };
    before.push(message);
  }
}

/**
 * Reads messages until each of `wanted` has matched one, in whatever order they come, within
 * `timeoutMs`; returns every message read and the first match of each.
 */
export async function collectUntil(
  client: SocketClient,
  wanted: ReadonlyArray<(message: Message) => boolean>,
  timeoutMs: number,
  what: string,
): Promise<{ messages: Message[]; found: Message[] }> {
  const deadline = Date.now() + timeoutMs;
  const messages: Message[] = [];
  const found: Array<Message | undefined> = wanted.map(() => undefined);
  while (found.includes(undefined)) {
    const missing = wanted.filter((_, i) => found[i] === undefined);
    const { message, before } = await nextMatching(
      client,
      (m) => missing.some((match) => match(m)),
      deadline - Date.now(),
      what,
    );
    messages.push(...before, message);
    wanted.forEach((match, i) => {
      if (found[i] === undefined && match(message)) found[i] = message;
    });
  }
  return { messages, found: found as Message[] };
}

/** Closes a client and waits for the close handshake, so the server has dropped its subscriptions. */
export async function closeClient(client: SocketClient): Promise<void> {
  client.close();
  await client.closed;
}

/** A window update on subscription `id`, optionally only a final one or of one key. */
export const isWindow =
  (id: string, want: { final?: boolean; key?: string; start?: number } = {}) =>
  (message: Message): boolean => {
    if (message.t !== 'window' || message.id !== id) return false;
    const w = windowOf(message);
    return (
      (want.final === undefined || w.final === want.final) &&
      (want.key === undefined || w.key === want.key) &&
      (want.start === undefined || w.start === want.start)
    );
  };

/** An ingest socket that sends one frame at a time and waits for its ack. */
export interface Producer {
  send(events: unknown[]): Promise<Message>;
  /** Sends frames back to back, then waits for every ack (in any order). */
  burst(frames: unknown[][]): Promise<Message[]>;
  close(): void;
}

export async function openProducer(wsUrl: string, key: string): Promise<Producer> {
  const client = await connect(`${wsUrl}/v1/ingest?key=${key}`);
  let seq = 0;
  const expectAck = (message: Message, seqs: Set<number>) => {
    if (message.t !== 'ack' || !seqs.delete(message.seq as number))
      throw new Error(`expected an ack, got ${JSON.stringify(message)}`);
    if ((message.rejected as unknown[]).length > 0)
      throw new Error(`events rejected: ${JSON.stringify(message.rejected)}`);
    return message;
  };
  return {
    async send(events) {
      seq += 1;
      client.send({ t: 'events', seq, events });
      return expectAck(await client.nextMessage(), new Set([seq]));
    },
    async burst(frames) {
      const seqs = new Set<number>();
      for (const events of frames) {
        seq += 1;
        seqs.add(seq);
        client.send({ t: 'events', seq, events });
      }
      const acks: Message[] = [];
      while (seqs.size > 0) acks.push(expectAck(await client.nextMessage(), seqs));
      return acks;
    },
    close: () => client.close(),
  };
}

let nextEventId = 0;

/** An event of `type` at event time `ts` with the given props and a unique id. */
export function eventAt(type: string, ts: number, props: Record<string, unknown> = {}) {
  nextEventId += 1;
  return { id: `live-${process.pid}-${Date.now()}-${nextEventId}`, type, ts, props };
}

/**
 * The start of a window of `sizeMs` that begins at least `aheadMs` from now and after
 * `after`. Events timed in a window that has not started yet keep it open (the watermark
 * stays behind its end) for as long as a test needs to send and observe early updates.
 */
export function windowAhead(sizeMs: number, aheadMs: number, after = -Infinity): number {
  return Math.max(Math.ceil((Date.now() + aheadMs) / sizeMs) * sizeMs, after + sizeMs);
}
