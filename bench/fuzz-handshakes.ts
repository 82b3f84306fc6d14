/**
 * Socket upgrades with credentials the server must refuse before it opens anything: unknown
 * and malformed keys, another project's key without the scope, unsigned, forged, expired and
 * oversized JWTs, altered user tokens, unknown projects; and some it must let in.
 */
import WebSocket from 'ws';
import { hostileKey } from './fuzz-credentials.js';
import type { WorkerContext } from './fuzz-lanes.js';
import { bump } from './fuzz-tally.js';

type Attempt = [kind: string, path: string, query: string, bearer?: string];

function attempt(ctx: WorkerContext, hostileTokens: string[]): Attempt {
  const { random, creds } = ctx;
  const token = () => random.pick(hostileTokens);
  const enc = encodeURIComponent;
  return random.weighted<() => Attempt>([
    [2, () => ['no-credential', random.pick(['/v1/ingest', '/v1/user']), '']],
    [
      3,
      () => [
        'bad-key',
        random.pick(['/v1/ingest', '/v1/live']),
        `key=${enc(hostileKey(random, creds))}`,
      ],
    ],
    [1, () => ['bad-key', '/v1/ingest', '', hostileKey(random, creds)]],
    [2, () => ['other-project-key', '/v1/ingest', `key=${creds.otherKey}`]],
    [4, () => ['bad-token', random.pick(['/v1/user', '/v1/live']), `token=${enc(token())}`]],
    [2, () => ['bad-token', '/v1/user', '', token()]],
    [1, () => ['token-as-key', '/v1/ingest', `key=${enc(token())}`]],
    [1, () => ['key-as-token', '/v1/user', `token=${creds.key}`]],
    [
      1,
      () => [
        'unknown-project',
        '/v1/live',
        `project=${enc(random.pick(['nope', '', '__proto__', '../bench', 'x'.repeat(3000)]))}`,
      ],
    ],
    [1, () => ['other-project', '/v1/live', `project=${creds.otherProject}`]],
    [
      1,
      () => [
        'valid-jwt',
        random.pick(['/v1/user', '/v1/live']),
        `token=${random.pick(ctx.laneJwts)}`,
      ],
    ],
    [
      1,
      () => [
        'bad-query',
        random.pick(['/v1/ingest', '/v1/live', '/v1/user']),
        random.pick([
          'key=%zz',
          'token=%E0%A4%A',
          `key=${creds.key}&key=x`,
          'after=' + 'x'.repeat(500),
        ]),
      ],
    ],
  ])();
}

/** The code of a refusal's JSON body, or what stood instead of one. */
function refusal(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.close(1000);
      resolve('opened');
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        try {
          resolve(String((JSON.parse(body) as { code?: unknown }).code));
        } catch {
          resolve(`status ${res.statusCode ?? 0}, no code`);
        }
      });
      res.on('error', () => resolve(`status ${res.statusCode ?? 0}, body cut`));
    });
    ws.once('error', (err: NodeJS.ErrnoException) =>
      resolve(`client error ${err.code ?? err.message}`),
    );
  });
}

/** `concurrency` loops of upgrade attempts until the handshake inputs are spent. */
export async function runHandshakes(
  ctx: WorkerContext,
  hostileTokens: string[],
  concurrency: number,
) {
  const loop = async () => {
    while (ctx.budgets.handshake > 0 && Date.now() < ctx.deadline) {
      ctx.budgets.handshake -= 1;
      const [kind, path, query, bearer] = attempt(ctx, hostileTokens);
      bump(ctx.tally.inputs, `handshake:${kind}`);
      const url = `ws://127.0.0.1:${ctx.port}${path}${query ? `?${query}` : ''}`;
      const headers = bearer === undefined ? undefined : { authorization: `Bearer ${bearer}` };
      const ws = new WebSocket(url, {
        headers,
        perMessageDeflate: false,
        handshakeTimeout: 30_000,
      });
      const outcome = await refusal(ws);
      // uWS closes a connection whose request head is over its size limit (a 100 KB token)
      // without an answer: refused before backline sees it, so in no counter.
      if (outcome === 'client error ECONNRESET') bump(ctx.tally.upgrades, 'closed unanswered');
      else if (outcome.startsWith('client error'))
        bump(ctx.tally.clientErrors, `handshake:${kind}:${outcome}`);
      else bump(ctx.tally.upgrades, outcome);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}
