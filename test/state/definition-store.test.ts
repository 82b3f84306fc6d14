import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, type Redis } from '../../src/cluster/redis-connection.js';
import { BacklineError } from '../../src/errors.js';
import { ruleSpecSchema, type RuleSpec } from '../../src/rules/rule-spec.js';
import type { DefinitionStore } from '../../src/state/definition-store.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { createRedisStateStore } from '../../src/state/redis-state-store.js';
import { openSavedDefinitions } from '../../src/state/saved-definitions.js';
import { openStateDefinitions } from '../../src/state/state-definitions.js';
import type { StateStore } from '../../src/state/state-store.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
const clients: Redis[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const client of clients) await client.quit();
  await server.stop();
});

/** Opens the store of `space`: two opens of one space see the same saved definitions. */
type Open = (space: string) => Promise<DefinitionStore<RuleSpec>>;

const files = new Map<string, string>();
const memory = new Map<string, StateStore>();
const fromState = (state: StateStore) =>
  openStateDefinitions(state, { kind: 'rule', schema: ruleSpecSchema, badCode: 'BAD_RULE' });

/** One contract for every DefinitionStore (Hono's shared-suite pattern). */
const implementations: Array<[string, Open]> = [
  [
    'file',
    async (space) => {
      const dir = files.get(space) ?? mkdtempSync(join(tmpdir(), 'backline-definitions-'));
      files.set(space, dir);
      return openSavedDefinitions(join(dir, 'rules.json'), ruleSpecSchema, 'BAD_RULE');
    },
  ],
  [
    'state (memory)',
    (space) =>
      fromState(memory.get(space) ?? memory.set(space, createMemoryStateStore()).get(space)!),
  ],
  [
    'state (redis)',
    async (space) => {
      const redis = await openRedis(server.url, { keyPrefix: `t-${space}:` });
      clients.push(redis);
      return fromState(createRedisStateStore(redis));
    },
  ],
];

const body = {
  trigger: { kind: 'event', types: ['user.signup'] },
  audience: { kind: 'user' },
  notification: { category: 'onboarding', title: 'Welcome', body: '' },
};
const rule = (name: string, title = 'Welcome'): RuleSpec =>
  ruleSpecSchema.parse({ ...body, name, notification: { ...body.notification, title } });
const names = (specs: RuleSpec[]) => specs.map((s) => `${s.name}:${s.notification.title}`).sort();

describe.each(implementations)('DefinitionStore: %s', (_name, openIn) => {
  it('applies definitions and deletions over configuration, and keeps them across a reopen', async () => {
    const space = randomUUID();
    const configured = [rule('a'), rule('b'), rule('constructor')];
    const first = await openIn(space);
    expect(names(first.specsFor('dev', configured))).toEqual([
      'a:Welcome',
      'b:Welcome',
      'constructor:Welcome',
    ]);
    await first.defined('dev', rule('a', 'Replaced'));
    await first.defined('dev', rule('tostring', 'New'));
    await first.removed('dev', 'b');
    await first.defined('other/project', rule('c', 'Elsewhere'));
    const expected = ['a:Replaced', 'constructor:Welcome', 'tostring:New'];
    expect(names(first.specsFor('dev', configured))).toEqual(expected);

    const second = await openIn(space);
    expect(names(second.specsFor('dev', configured))).toEqual(expected);
    expect(names(second.specsFor('other/project', []))).toEqual(['c:Elsewhere']);
    expect(names(second.specsFor('third', configured))).toEqual([
      'a:Welcome',
      'b:Welcome',
      'constructor:Welcome',
    ]);
  });

  it('reloads one definition as saved: the definition, null when deleted, undefined when none', async () => {
    const space = randomUUID();
    const store = await openIn(space);
    await store.defined('dev', rule('a', 'Saved'));
    await store.removed('dev', 'b');
    expect((await store.reload('dev', 'a'))?.notification.title).toBe('Saved');
    expect(await store.reload('dev', 'b')).toBeNull();
    expect(await store.reload('dev', 'c')).toBeUndefined();
  });

  it('refuses a bad definition with the kind’s error code naming the bad part', async () => {
    const store = await openIn(randomUUID());
    let error: unknown;
    try {
      store.parse('bad', { ...body, trigger: { kind: 'nope' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BacklineError);
    expect((error as BacklineError).code).toBe('BAD_RULE');
    expect((error as BacklineError).message).toContain('trigger');
    expect(store.parse('good', body).name).toBe('good');
  });
});

it('sees a change another node saved in the shared state once it reloads that definition', async () => {
  const state = createMemoryStateStore();
  const [a, b] = [await fromState(state), await fromState(state)];
  await a.defined('dev', rule('a', 'From A'));
  expect(b.specsFor('dev', [])).toEqual([]);
  await b.reload('dev', 'a');
  expect(names(b.specsFor('dev', []))).toEqual(['a:From A']);
  await a.removed('dev', 'a');
  await b.reload('dev', 'a');
  expect(b.specsFor('dev', [rule('a')])).toEqual([]);
});
