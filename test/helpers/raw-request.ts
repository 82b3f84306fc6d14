import { connect } from 'node:net';

/** An HTTP answer as it came over the wire; `json` when its body parses. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: Record<string, unknown> | undefined;
}

/**
 * One HTTP/1.1 request written by hand over a loopback socket, so a test decides when each
 * byte of the body goes out and sees an answer that arrives before the body is complete
 * (fetch sends the whole body before it looks at the answer). `answer` resolves the parsed
 * answer, or `undefined` if the connection closed without one.
 *
 * @example
 * const r = openRequest(port, '/v1/webhooks/sendgrid', { 'content-length': '4194304' });
 * expect((await r.answer)?.status).toBe(401); // no byte of the body was sent
 */
export function openRequest(port: number, path: string, headers: Record<string, string>) {
  const socket = connect(port, '127.0.0.1');
  // Writing after the server closed gives EPIPE or ECONNRESET: the test looks at `closed`.
  socket.on('error', () => undefined);
  let received = Buffer.alloc(0);
  let sent = 0;
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const answer = new Promise<RawAnswer | undefined>((resolve) => {
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const parsed = parseAnswer(received);
      if (parsed) resolve(parsed);
    });
    void closed.then(() => resolve(parseAnswer(received)));
  });
  const head = Object.entries({ host: '127.0.0.1', ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);

  return {
    answer,
    closed,
    /** Body bytes written so far. */
    get sent() {
      return sent;
    },
    /** Writes `bytes` unless the connection is gone; resolves false once it is. */
    async send(bytes: Buffer | string): Promise<boolean> {
      if (socket.destroyed || !socket.writable) return false;
      sent += Buffer.byteLength(bytes);
      if (socket.write(bytes)) return true;
      const drained = new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true)));
      return Promise.race([drained, closed.then(() => false)]);
    },
    /**
     * Sends one chunk of a `transfer-encoding: chunked` body (an empty one ends it). `bytes`
     * is written as is, not copied, so a test can send one buffer many times.
     */
    async sendChunk(bytes: Buffer | string): Promise<boolean> {
      if (socket.destroyed || !socket.writable) return false;
      socket.write(`${Buffer.byteLength(bytes).toString(16)}\r\n`);
      socket.write(bytes);
      sent += Buffer.byteLength(bytes);
      return this.send('\r\n');
    },
    destroy() {
      socket.destroy();
    },
  };
}

export type RawRequest = ReturnType<typeof openRequest>;

function parseAnswer(data: Buffer): RawAnswer | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (data.length < end + 4 + length) return undefined;
  const body = data.subarray(end + 4, end + 4 + length).toString('utf8');
  return { status: Number(statusLine!.split(' ')[1]), headers, body, json: parseJson(body) };
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** `promise`'s value, or `undefined` if it has not settled within `ms` (a bound, not a check). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
