/**
 * The HTTP lanes of a fuzz worker: requests to the routes of the server's own route table
 * with hostile path parameters, queries, credentials, methods and bodies, and now and then a
 * valid events batch (`POST /v1/events`) that the run checks in storage afterwards.
 */
import { Agent, request } from 'node:http';
import { unpack } from 'msgpackr';
import { heavy, hostileRequest, validRequest, type HttpInput } from './fuzz-http-requests.js';
import type { Target, WorkerContext } from './fuzz-lanes.js';
import { bump, sample } from './fuzz-tally.js';

export interface Route {
  method: string;
  pattern: string;
}

/** Routes the fuzzer leaves alone: the runner reads them to judge the run. */
export const untouchedRoutes = ['/metrics', '/healthz'];

interface Answer {
  status?: number;
  code?: string;
  body?: Record<string, unknown>;
  error?: string;
  /** The client library would not send it (a header or path it refuses): a fuzzer bug. */
  unsendable?: boolean;
}

/** One request's answer: its status and the catalogue code of its body, or why none came. */
function send(ctx: WorkerContext, agent: Agent, input: HttpInput): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    const options = { host: '127.0.0.1', port: ctx.port, agent, timeout: 60_000 };
    const { method, path, headers } = input;
    let req: ReturnType<typeof request>;
    try {
      req = request({ ...options, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', () => resolve({ status: res.statusCode, error: 'body cut' }));
        res.on('end', () => {
          const body = readBody(Buffer.concat(chunks), String(res.headers['content-type']));
          const code = typeof body?.code === 'string' ? body.code : undefined;
          resolve({ status: res.statusCode, code, body });
        });
      });
    } catch (err) {
      return resolve({ error: (err as NodeJS.ErrnoException).code, unsendable: true });
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(input.body);
  });
}

function readBody(bytes: Buffer, contentType: string): Record<string, unknown> | undefined {
  try {
    if (contentType.includes('json'))
      return JSON.parse(bytes.toString()) as Record<string, unknown>;
    if (contentType.includes('msgpack')) return unpack(bytes) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return undefined;
}

/** `concurrency` request loops until the HTTP inputs are spent and every valid batch answered. */
export async function runHttpLanes(
  ctx: WorkerContext,
  routes: Route[],
  concurrency: number,
): Promise<void> {
  // Idle pooled connections are dropped before uWS's own 10 s idle close can race a reuse.
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, timeout: 4000 });
  const target: Target = 'http';
  const targets = routes
    .filter((route) => !untouchedRoutes.includes(route.pattern))
    .map((route) => [heavy.test(`${route.method} ${route.pattern}`) ? 0.25 : 1, route] as const);
  const loop = async () => {
    while (ctx.budgets[target] > 0 && Date.now() < ctx.deadline) {
      const input = ctx.random.chance(0.08) ? validRequest(ctx) : hostileRequest(ctx, targets);
      const answer = await send(ctx, agent, input);
      if (answer.unsendable) {
        bump(ctx.tally.clientErrors, `http:unsendable ${answer.error}`);
        if (input.validSeq !== undefined) ctx.valid.refused(input.validSeq, 'unsendable');
        continue;
      }
      if (input.input) {
        ctx.budgets[target] -= 1;
        bump(ctx.tally.inputs, input.input);
      }
      record(ctx, input, answer);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  agent.destroy();
}

function record(
  ctx: WorkerContext,
  input: HttpInput,
  answer: Awaited<ReturnType<typeof send>>,
): void {
  const { tally, valid } = ctx;
  if (answer.error || answer.code === 'INTERNAL')
    sample(tally, `http ${answer.error ?? answer.code}`, describe(input));
  if (answer.error || answer.status === undefined) {
    bump(tally.clientErrors, `http:${answer.error}`);
    if (input.validSeq !== undefined) valid.lost(input.validSeq);
    return;
  }
  bump(tally.httpStatus, String(answer.status));
  if (answer.code) bump(tally.httpCodes, answer.code);
  const body = answer.body;
  const rejected = Array.isArray(body?.rejected)
    ? (body.rejected as Array<{ code?: unknown }>)
    : [];
  if (answer.status === 200 && input.path.startsWith('/v1/events'))
    for (const r of rejected) bump(tally.eventRejects, String(r.code));
  if (input.validSeq === undefined) return;
  if (answer.status === 200)
    valid.acked(input.validSeq, Number(body?.accepted), Number(body?.duplicates), rejected.length);
  else valid.refused(input.validSeq, answer.code ?? String(answer.status));
}

/** A request as a reader would retry it: method, path, credentials' kind, body's head. */
function describe(input: HttpInput): string {
  const body = input.body
    ? ` ${JSON.stringify(input.body.subarray(0, 120).toString('latin1'))}`
    : '';
  return `${input.method} ${input.path.slice(0, 160)} ${JSON.stringify(input.headers['content-type'] ?? '')}${body}`;
}
