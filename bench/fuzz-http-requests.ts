/**
 * The HTTP fuzzer's requests: a route of the server's table with hostile path parameters,
 * queries, credentials, methods and bodies; or a valid events batch between them.
 */
import { hostileKey } from './fuzz-credentials.js';
import { fuzzNames, hostileBody, usualBody } from './fuzz-http-bodies.js';
import type { Route } from './fuzz-http.js';
import type { WorkerContext } from './fuzz-lanes.js';

// Routes whose every call runs ClickHouse queries or an erasure: called a quarter as often.
export const heavy =
  /^DELETE \/v1\/users\/:id$|export$|stats$|audit$|rollup$|decisions$|^PUT \/v1\/streams|^POST \/v1\/keys$/;

export interface HttpInput {
  input?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  validSeq?: number;
}

const paramValues = [
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e',
  '..',
  '%00',
  '%zz',
  '%',
  '%c0%ae%c0%ae',
  '%ED%A0%80',
  'a'.repeat(2000),
  '__proto__',
  'constructor',
  '%F0%9F%92%A9',
  'fz%0d%0aX-Injected:1',
  "fz'%3B--",
  '%2F',
  'fuzz_private',
  'fuzz_users',
  'fuzz_public',
  'fuzz_other_private',
];
const queryNames = [
  'from',
  'to',
  'limit',
  'before',
  'archived',
  'key',
  'groupKey',
  'bucket',
  'locale',
  'notification',
  'rule',
  'dedupKey',
  'category',
  'project',
  'token',
  'after',
];
const queryValues = [
  '',
  '-1',
  '0',
  'NaN',
  '1e309',
  '99999999999999999999',
  '10413791999999',
  '10413792000000',
  '2299-12-31T23:59:59.999Z',
  '1969-12-31T23:59:59.999Z',
  'yesterday',
  '%zz',
  '%00',
  'a'.repeat(5000),
  '[object%20Object]',
  'hour',
  'all',
  'fuzz_other',
  'true',
  '__proto__',
];

function param(ctx: WorkerContext, name: string): string {
  const { random } = ctx;
  if (name === 'id' && random.chance(0.4)) return `fuzz-user-${random.int(1000)}`;
  if (name === 'name' && random.chance(0.4)) return random.pick(fuzzNames);
  return random.pick(paramValues);
}

function credentials(ctx: WorkerContext, headers: Record<string, string>): string {
  const { random, creds } = ctx;
  const [kind, value] = random.weighted<[string, string]>([
    [8, ['key', creds.key]],
    [3, ['none', '']],
    [3, ['key', creds.otherKey]],
    [2, ['token', ctx.laneJwts[random.int(ctx.laneJwts.length)]!]],
    [1, ['token', random.pick(creds.userTokens)]],
    [3, ['key', hostileKey(random, creds)]],
  ]);
  if (kind === 'none') return '';
  if (random.chance(0.5)) {
    headers.authorization = `Bearer ${value}`;
    return '';
  }
  return `${kind}=${encodeURIComponent(value)}`;
}

export function hostileRequest(
  ctx: WorkerContext,
  routes: Array<readonly [number, Route]>,
): HttpInput {
  const { random } = ctx;
  const route = random.weighted(routes);
  const headers: Record<string, string> = {};
  let kind = 'params';
  let path = route.pattern.replace(/:(\w+)/g, (_, name: string) => param(ctx, name));
  path = path.replace('*', () =>
    random.pick(['app.js', '../../package.json', '%2e%2e/%2e%2e/etc/passwd', 'x/'.repeat(500)]),
  );
  const query = [credentials(ctx, headers)];
  if (random.chance(0.5)) {
    kind = 'query';
    for (let i = random.int(4); i >= 0; i--)
      query.push(`${random.pick(queryNames)}=${random.pick(queryValues)}`);
  }
  let method = route.method === 'ANY' ? random.pick(['GET', 'POST', 'PATCH']) : route.method;
  if (random.chance(0.05)) {
    kind = 'method';
    method = random.pick(['PATCH', 'TRACE', 'PUT', 'DELETE', 'POST', 'GET']);
  }
  let body: Buffer | undefined;
  if (method !== 'GET' && method !== 'TRACE') {
    const hostile = random.chance(0.85) ? hostileBody(route.pattern, random) : undefined;
    body = hostile?.bytes ?? usualBody(route.pattern, random);
    if (hostile) kind = hostile.kind;
    const contentType = hostile ? hostile.contentType : 'application/json';
    if (contentType !== undefined) headers['content-type'] = contentType;
    // Node frames a DELETE body with nothing unless told its length: the server would read it
    // as the next request on the connection.
    headers['content-length'] = String(body.length);
  }
  const qs = query.filter(Boolean).join('&');
  return { input: `http:${kind}`, method, path: qs ? `${path}?${qs}` : path, headers, body };
}

export function validRequest(ctx: WorkerContext): HttpInput {
  const { seq, json } = ctx.valid.body();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ctx.creds.key}` };
  return { method: 'POST', path: '/v1/events', headers, body: Buffer.from(json), validSeq: seq };
}
