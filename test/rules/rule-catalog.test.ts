import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createMemoryBus } from '../../src/cluster/memory-bus.js';
import { BacklineError } from '../../src/errors.js';
import { createRuleCatalog } from '../../src/rules/rule-catalog.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { openRules, rule, tempDir } from './rules-fixtures.js';

const body = {
  trigger: { kind: 'event', types: ['user.signup'] },
  audience: { kind: 'user' },
  notification: { category: 'onboarding', title: 'Welcome', body: '' },
};
const configured = [rule({ name: 'from_config', ...body })];

/** A catalog as main wires it: configuration plus saved overrides, defined at start. */
function boot(file: string) {
  const { service } = openRules(createMemoryStateStore(), {});
  const catalog = createRuleCatalog({ rules: service, file, bus: createMemoryBus() });
  for (const spec of catalog.specsFor('dev', configured)) service.define('dev', spec);
  return catalog;
}

it('keeps rules defined and deleted through the API across a restart', async () => {
  const file = join(tempDir('rule-catalog'), 'rules.json');
  const first = boot(file);
  expect(first.list('dev').map((r) => r.name)).toEqual(['from_config']);
  expect((await first.define('dev', 'welcome', body)).notification.priority).toBe('normal');
  expect(await first.remove('dev', 'from_config')).toBe(true);
  expect(await first.remove('dev', 'from_config')).toBe(false);
  expect(existsSync(file)).toBe(true);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ dev: { from_config: null } });

  const second = boot(file);
  expect(second.list('dev').map((r) => r.name)).toEqual(['welcome']);
  expect(second.get('dev', 'welcome')?.trigger).toEqual(first.get('dev', 'welcome')?.trigger);
});

it('refuses a bad rule with BAD_RULE naming the part, and keeps nothing of it', async () => {
  const catalog = boot(join(tempDir('rule-catalog'), 'rules.json'));
  const bad = { ...body, trigger: { kind: 'threshold', stream: 's', value: 'v' } };
  let error: unknown;
  try {
    await catalog.define('dev', 'bad', bad);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(BacklineError);
  expect((error as BacklineError).code).toBe('BAD_RULE');
  expect((error as BacklineError).message).toContain('trigger');
  expect(catalog.get('dev', 'bad')).toBeUndefined();
});

it('announces each rule defined or removed through it on the bus’s `definitions`', async () => {
  const bus = createMemoryBus();
  const announced: unknown[] = [];
  bus.subscribe('definitions', (message) => announced.push(message));
  const { service } = openRules(createMemoryStateStore(), {});
  const catalog = createRuleCatalog({
    rules: service,
    file: join(tempDir('rule-catalog'), 'rules.json'),
    bus,
  });
  await catalog.define('dev', 'welcome', body);
  expect(await catalog.remove('dev', 'welcome')).toBe(true);
  expect(await catalog.remove('dev', 'welcome')).toBe(false);
  expect(announced).toEqual([
    { project: 'dev', kind: 'rule', name: 'welcome' },
    { project: 'dev', kind: 'rule', name: 'welcome' },
  ]);
});
