import { Packr, unpack } from 'msgpackr';
import WebSocket from 'ws';

const packr = new Packr();

export type Message = Record<string, unknown>;

/** A test client on a backline socket: sends MessagePack frames, queues what comes back. */
export interface SocketClient {
  readonly ws: WebSocket;
  send(message: unknown): void;
  sendRaw(data: Buffer | string, binary?: boolean): void;
  nextMessage(timeoutMs?: number): Promise<Message>;
  expectNoMessage(ms: number): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
        ms,
      );
    }),
  ]);
}

export async function connect(
  url: string,
  headers: Record<string, string> = {},
  /** More of `ws`'s options: `ca` for a wss server's test certificate. */
  options: WebSocket.ClientOptions = {},
): Promise<SocketClient> {
  const ws = new WebSocket(url, { ...options, headers });
  const queue: Message[] = [];
  const waiters: Array<(message: Message) => void> = [];
  ws.on('message', (data: Buffer) => {
    const message = unpack(data) as Message;
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
    }),
    30_000,
    'the socket to open',
  );
  return {
    ws,
    closed,
    send: (message) => ws.send(packr.pack(message)),
    sendRaw: (data, binary = true) => ws.send(data, { binary }),
    // 30 s: under `npm test` two test files and their servers share two cores; in CI a sub
    // once went unanswered for 10 s (user-jwt.test.ts) with no fault found in the server. A
    // hang still fails, later.
    nextMessage(timeoutMs = 30_000) {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      let waiter: (message: Message) => void = () => undefined;
      const next = new Promise<Message>((resolve) => waiters.push((waiter = resolve)));
      // A wait that timed out leaves the line, or it would take the next message for nobody
      // (a caller reading on after a timeout lost one message per timeout).
      return withTimeout(next, timeoutMs, 'a message').catch((err: unknown) => {
        const at = waiters.indexOf(waiter);
        if (at >= 0) waiters.splice(at, 1);
        throw err;
      });
    },
    async expectNoMessage(ms) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      if (queue.length > 0) throw new Error(`unexpected message ${JSON.stringify(queue[0])}`);
    },
    close: () => ws.close(),
  };
}

/** Events with unique ids and current timestamps. */
export function makeEvents(
  count: number,
  prefix = `e${Date.now()}-${Math.random().toString(36).slice(2)}`,
  type = 'page.view',
) {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    type,
    ts: now,
    userId: `u${i % 7}`,
    props: { path: `/shows/${i}`, n: i },
  }));
}

export async function stats(
  url: string,
  key: string,
  query = '',
): Promise<{ total: number; counts: Record<string, number> }> {
  const res = await fetch(`${url}/v1/events/stats?key=${key}${query}`);
  if (res.status !== 200) throw new Error(`stats answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { total: number; counts: Record<string, number> };
}
