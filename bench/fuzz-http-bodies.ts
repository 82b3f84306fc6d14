/**
 * Request bodies for the HTTP fuzzer: each route's usual JSON with one field made hostile,
 * broken JSON, nesting past any parser's stack, oversized and mis-typed bodies.
 */
import { mutate } from './fuzz-mutate.js';
import * as mp from './fuzz-msgpack.js';
import { hostileEvent } from './fuzz-frames.js';
import type { Random } from './fuzz-random.js';

// Names the fuzzer may define: few, so valid definitions it stumbles on stay bounded
// (each stream owns a ClickHouse rollup), and never the scenario's own.
export const fuzzNames = ['fz_a', 'fz_b', 'fz_c'];

const hole = '"\u0000HOLE\u0000"';

/** The shape each route takes, by its pattern; a field of it becomes the hostile hole. */
function template(pattern: string, random: Random): Record<string, unknown> {
  const at = (p: RegExp) => p.test(pattern);
  const now = Date.now();
  if (at(/\/v1\/events$/))
    return {
      events: [{ id: `h-${random.int(1e9)}`, type: 'fuzz.hostile', ts: now, props: { a: 1 } }],
    };
  if (at(/\/streams\//))
    return {
      // Redefining the scenario's own streams flips who may read them: live subscribers shut
      // out get their subscriptions ended (the access-change path, under load).
      access: random.pick(['private', 'users', 'public']),
      source: { types: ['fuzz.hostile'], where: [{ field: 'props.a', op: 'eq', value: 1 }] },
      groupBy: ['props.g'],
      window: { kind: 'tumbling', sizeMs: 60_000 },
      aggregates: [{ name: 'n', fn: 'count' }],
      emit: { mode: 'early', everyMs: 1000 },
    };
  if (at(/\/rules\//))
    return {
      trigger: { kind: 'event', types: ['fuzz.hostile'] },
      audience: { kind: 'user' },
      notification: { category: 'c', title: '{{props.a}}', body: 'b', channels: ['in_app'] },
    };
  if (at(/templates-layout/)) return { html: '<p>{{{content}}}</p>', text: '{{{content}}}' };
  if (at(/\/templates\//))
    return { subject: 'Hi {{name}}', html: '<b>{{name}}</b>', text: '{{name}}' };
  if (at(/\/v1\/keys$/)) return { name: 'fz', scopes: ['read'], expiresAt: now + 60_000 };
  if (at(/\/token$/)) return { ttlMs: 60_000 };
  if (at(/preferences/))
    return {
      categories: { '*': { in_app: true, email: false } },
      quietHours: { start: '22:00', end: '07:00' },
      timeZone: 'Europe/Paris',
      digest: 'off',
      email: 'fuzz@example.com',
    };
  if (at(/push-subscriptions/))
    return {
      endpoint: random.pick([
        'https://127.0.0.1/p',
        'https://169.254.169.254/',
        'http://10.0.0.1/x',
        'https://[::1]/',
        'javascript:alert(1)',
      ]),
      keys: {
        p256dh: random.bytes(65).toString('base64url'),
        auth: random.bytes(16).toString('base64url'),
      },
    };
  if (at(/inbox/)) return { ids: ['n-1', 'n-2'] };
  return { x: 1 };
}

/** JSON text of a value no route should take: extremes, wrong types, deep, long, `__proto__`. */
export function hostileJson(random: Random): string {
  return random.weighted<() => string>([
    [
      2,
      () =>
        random.pick([
          '1e309',
          '-0',
          '9007199254740993',
          '-1',
          '0.5',
          'null',
          'true',
          '""',
          '[]',
          '{}',
        ]),
    ],
    [1, () => '"\\ud800"'],
    [1, () => '"\\u0000"'],
    [1, () => JSON.stringify('x'.repeat(random.pick([129, 8193, 70_000])))],
    [1, () => '['.repeat(1000) + ']'.repeat(1000)],
    [
      2,
      () =>
        '{"__proto__":{"fuzzPolluted":"yes"},"constructor":{"prototype":{"fuzzPolluted":"yes"}}}',
    ],
    [
      1,
      () =>
        JSON.stringify(
          random.pick([
            '../../etc/passwd',
            '{{constructor.constructor}}',
            '<script>x</script>',
            "'; DROP TABLE events; --",
          ]),
        ),
    ],
    [1, () => JSON.stringify(Array.from({ length: 5000 }, (_, i) => i))],
  ])();
}

/** One field of `value` (at any depth) replaced by the hole. */
function punch(value: Record<string, unknown>, random: Random): void {
  let node: Record<string, unknown> = value;
  for (;;) {
    const keys = Object.keys(node);
    if (keys.length === 0) return void (node[random.pick(['x', '__proto__'])] = hole);
    const key = random.pick(keys);
    const child = node[key];
    if (child && typeof child === 'object' && random.chance(0.6))
      node = child as Record<string, unknown>;
    else return void (node[key] = hole);
  }
}

export interface Body {
  kind: string;
  contentType: string | undefined;
  bytes: Buffer;
}

const json = 'application/json';

/** A hostile body for a route of `pattern`. */
export function hostileBody(pattern: string, random: Random): Body {
  const usual = template(pattern, random);
  const usualText = JSON.stringify(usual);
  return random.weighted<() => Body>([
    [
      8,
      () => {
        punch(usual, random);
        const text = JSON.stringify(usual).replace(JSON.stringify(hole), hostileJson(random));
        return { kind: 'json-field', contentType: json, bytes: Buffer.from(text) };
      },
    ],
    [
      4,
      () => ({
        kind: 'bad-json',
        contentType: json,
        bytes: mutate(Buffer.from(usualText), random),
      }),
    ],
    [
      1,
      () => ({
        kind: 'deep-json',
        contentType: json,
        bytes: Buffer.from('['.repeat(random.pick([10_000, 60_000]))),
      }),
    ],
    [
      1,
      () => ({
        kind: 'invalid-utf8',
        contentType: json,
        bytes: Buffer.concat([
          Buffer.from('{"a":"'),
          random.pick(mp.invalidUtf8),
          Buffer.from('"}'),
        ]),
      }),
    ],
    [
      1,
      () => ({
        kind: 'large-body',
        contentType: json,
        bytes: Buffer.from(JSON.stringify({ ...usual, pad: 'x'.repeat(70_000) })),
      }),
    ],
    [
      0.05,
      () => ({
        kind: 'oversized-body',
        contentType: json,
        bytes: Buffer.alloc(1024 * 1024 + 1 + random.int(100_000), 0x20),
      }),
    ],
    [
      1,
      () => ({
        kind: 'empty-body',
        contentType: random.pick([json, undefined]),
        bytes: Buffer.alloc(0),
      }),
    ],
    [
      2,
      () => ({
        kind: 'content-type',
        contentType: random.pick([
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          'application/json; charset=utf-16',
          'application/xml',
          '*/*',
          'application/msgpack',
        ]),
        bytes: Buffer.from(usualText),
      }),
    ],
    [
      2,
      () => ({
        kind: 'msgpack',
        contentType: 'application/msgpack',
        bytes: mp.map([['events', mp.array([hostileEvent(random, mp.hostileValue(random))])]]),
      }),
    ],
  ])();
}

/** The usual body of a route, unchanged: its happy path, run now and then among the hostile. */
export const usualBody = (pattern: string, random: Random): Buffer =>
  Buffer.from(JSON.stringify(template(pattern, random)));
