/**
 * Requests no HTTP client library would send, written to a raw TCP socket: broken request
 * lines, header tricks (duplicate lengths, length plus chunked, NUL, obs-fold, oversized),
 * bad chunked framing, bodies cut short, pipelining, raw bytes in paths, malformed upgrades.
 */
import { connect } from 'node:net';
import type { WorkerContext } from './fuzz-lanes.js';
import { bump } from './fuzz-tally.js';

const crlf = '\r\n';

export function requests(key: string): Array<[string, () => Buffer]> {
  const auth = `Authorization: Bearer ${key}${crlf}`;
  const text = (s: string) => () => Buffer.from(s, 'latin1');
  const events = '{"events":[{"id":"h-raw","type":"fuzz.hostile","ts":' + Date.now() + '}]}';
  return [
    ['request-line', text(`GARBAGE${crlf}${crlf}`)],
    ['request-line', text(`GET${crlf}${crlf}`)],
    ['request-line', text(`GET / HTTP/9.9${crlf}${crlf}`)],
    ['request-line', text(`GET /${crlf}`)],
    ['request-line', text(`PRI * HTTP/2.0${crlf}${crlf}SM${crlf}${crlf}`)],
    [
      'request-line',
      text(`GET http://evil.example/v1/streams HTTP/1.1${crlf}Host: x${crlf}${auth}${crlf}`),
    ],
    [
      'raw-path',
      text(`GET /v1/streams/\u0000\u00ff\u0080 HTTP/1.1${crlf}Host: x${crlf}${auth}${crlf}`),
    ],
    [
      'raw-path',
      text(`GET /v1/streams/../../../etc/passwd HTTP/1.1${crlf}Host: x${crlf}${auth}${crlf}`),
    ],
    ['raw-path', text(`GET /${'a'.repeat(100_000)} HTTP/1.1${crlf}Host: x${crlf}${crlf}`)],
    [
      'header',
      text(`GET /readyz HTTP/1.1${crlf}Host: x${crlf}X-Big: ${'b'.repeat(200_000)}${crlf}${crlf}`),
    ],
    [
      'header',
      text(
        `GET /readyz HTTP/1.1${crlf}${Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join(crlf)}${crlf}${crlf}`,
      ),
    ],
    ['header', text(`GET /readyz HTTP/1.1${crlf}Host: x${crlf}NoColon${crlf}${crlf}`)],
    ['header', text(`GET /readyz HTTP/1.1${crlf}Host: x${crlf}X-A: a${crlf} folded${crlf}${crlf}`)],
    ['header', text(`GET /readyz HTTP/1.1${crlf}Host: x\u0000y${crlf}${crlf}`)],
    ['header', text(`GET /readyz HTTP/1.1\nHost: x\n\n`)],
    [
      'content-length',
      text(
        `POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Content-Length: 5${crlf}Content-Length: 500${crlf}${crlf}hello`,
      ),
    ],
    [
      'content-length',
      text(`POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Content-Length: -1${crlf}${crlf}`),
    ],
    [
      'content-length',
      text(
        `POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Content-Length: 99999999999999999999${crlf}${crlf}{}`,
      ),
    ],
    [
      'content-length',
      text(
        `POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Content-Type: application/json${crlf}Content-Length: 5000${crlf}${crlf}${events}`,
      ),
    ],
    [
      'chunked',
      text(
        `POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Transfer-Encoding: chunked${crlf}Content-Length: 3${crlf}${crlf}0${crlf}${crlf}`,
      ),
    ],
    [
      'chunked',
      text(
        `POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Transfer-Encoding: chunked${crlf}${crlf}zz${crlf}abc${crlf}0${crlf}${crlf}`,
      ),
    ],
    [
      'chunked',
      text(
        `POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Transfer-Encoding: chunked${crlf}${crlf}ffffffffffffffff${crlf}abc${crlf}`,
      ),
    ],
    [
      'chunked',
      text(
        `POST /v1/events HTTP/1.1${crlf}Host: x${crlf}${auth}Content-Type: application/json${crlf}Transfer-Encoding: chunked${crlf}${crlf}${events.length.toString(16)};ext=${'e'.repeat(10_000)}${crlf}${events}${crlf}0${crlf}${crlf}`,
      ),
    ],
    [
      'pipelined',
      text(
        `GET /readyz HTTP/1.1${crlf}Host: x${crlf}${crlf}GET /v1/streams HTTP/1.1${crlf}Host: x${crlf}${auth}${crlf}GET /nope HTTP/1.1${crlf}Host: x${crlf}${crlf}`,
      ),
    ],
    [
      'upgrade',
      text(
        `GET /v1/ingest HTTP/1.1${crlf}Host: x${crlf}${auth}Upgrade: websocket${crlf}Connection: Upgrade${crlf}Sec-WebSocket-Version: 13${crlf}${crlf}`,
      ),
    ],
    [
      'upgrade',
      text(
        `GET /v1/ingest HTTP/1.1${crlf}Host: x${crlf}${auth}Upgrade: websocket${crlf}Connection: Upgrade${crlf}Sec-WebSocket-Key: short${crlf}Sec-WebSocket-Version: 12${crlf}${crlf}`,
      ),
    ],
    [
      'upgrade',
      text(
        `POST /v1/live HTTP/1.1${crlf}Host: x${crlf}Upgrade: websocket${crlf}Connection: Upgrade${crlf}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==${crlf}Sec-WebSocket-Version: 13${crlf}Content-Length: 2${crlf}${crlf}{}`,
      ),
    ],
  ];
}

export interface RawOutcome {
  /** Answers read, in order: backline's (`backline 404`) or another's, uWS's own (`uWS 400`). */
  answers: string[];
  /** How the exchange ended: `closed` by the server, `idle` (no more bytes came), `reset`. */
  end: 'closed' | 'idle' | 'reset';
}

// An exchange ends once the server has been silent this long after its last bytes (ms).
const idleMs = 3000;

export function exchange(port: number, bytes: Buffer): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let end: RawOutcome['end'] = 'closed';
    let idle: NodeJS.Timeout;
    const quiet = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        end = 'idle';
        socket.destroy();
      }, idleMs);
    };
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      quiet();
    });
    socket.on('error', () => (end = end === 'idle' ? end : 'reset'));
    socket.on('close', () => {
      clearTimeout(idle);
      // backline answers with a JSON body; uWS's own refusals carry no content type
      const answers = answer
        .split(/(?=HTTP\/1\.1 \d{3} )/)
        .filter((part) => part.startsWith('HTTP/1.1 '))
        .map((part) => `${/content-type:/i.test(part) ? 'backline' : 'uWS'} ${part.slice(9, 12)}`);
      resolve({ answers, end });
    });
    socket.write(bytes, quiet);
  });
}

/** Sends the malformed requests, `concurrency` at a time, and tallies what came back. */
export async function runRawHttp(ctx: WorkerContext, concurrency: number): Promise<void> {
  const all = requests(ctx.creds.key);
  const loop = async () => {
    while (ctx.budgets['raw-http'] > 0 && Date.now() < ctx.deadline) {
      ctx.budgets['raw-http'] -= 1;
      const [kind, bytes] = ctx.random.pick(all);
      bump(ctx.tally.inputs, `raw-http:${kind}`);
      const outcome = await exchange(ctx.port, bytes());
      for (const answer of outcome.answers) bump(ctx.tally.raw, answer);
      if (outcome.answers.length === 0) bump(ctx.tally.raw, `${kind}: no answer, ${outcome.end}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}
