import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemoryBus } from '../../../src/cluster/memory-bus.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createRuleCatalog } from '../../../src/rules/rule-catalog.js';
import { createMemoryStateStore } from '../../../src/state/memory-state-store.js';
import { registerHttpRules } from '../../../src/transport/http/rules.js';
import { loadUws } from '../../../src/transport/uws.js';
import { log, openRules, tempDir } from '../../rules/rules-fixtures.js';
import { jsonCaller, listenOnLoopback } from '../../helpers/loopback-app.js';
import { auth } from '../../helpers/key-auth.js';
import { memoryRateLimits } from '../../helpers/rate-limits.js';

const { uws } = loadUws(true);
let server: Awaited<ReturnType<typeof listenOnLoopback>>;

beforeAll(async () => {
  const { service } = openRules(createMemoryStateStore(), {});
  const catalog = createRuleCatalog({
    rules: service,
    file: join(tempDir('http-rules'), 'rules.json'),
    bus: createMemoryBus(),
  });
  const app = uws.App();
  registerHttpRules(app, {
    catalog,
    auth,
    metrics: createMetrics(),
    log,
    rateLimits: memoryRateLimits(),
  });
  server = await listenOnLoopback(uws, app);
});
afterAll(() => server.close());

const call = jsonCaller(() => server.origin);

const welcome = {
  trigger: { kind: 'event', types: ['user.signup'] },
  audience: { kind: 'user' },
  notification: { category: 'onboarding', title: 'Welcome {{userId}}', body: '' },
};

it('defines, lists, reads and deletes a rule of the key’s project', async () => {
  const put = await call('PUT', '/v1/rules/welcome', 'admin', welcome);
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ name: 'welcome', notification: { priority: 'normal' } });
  expect((await call('GET', '/v1/rules', 'reader')).body).toMatchObject({
    rules: [{ name: 'welcome' }],
  });
  expect((await call('GET', '/v1/rules/welcome', 'reader')).body).toMatchObject({
    name: 'welcome',
  });
  expect((await call('GET', '/v1/rules', 'other')).body).toEqual({ rules: [] });
  expect((await call('DELETE', '/v1/rules/welcome', 'other')).body).toMatchObject({
    code: 'UNKNOWN_RULE',
  });
  expect((await call('DELETE', '/v1/rules/welcome', 'admin')).status).toBe(204);
  const gone = await call('DELETE', '/v1/rules/welcome', 'admin');
  expect([gone.status, gone.body?.code]).toEqual([404, 'UNKNOWN_RULE']);
  expect((await call('GET', '/v1/rules/welcome', 'reader')).body?.code).toBe('UNKNOWN_RULE');
});

it('answers bad definitions and missing scopes with their codes', async () => {
  const bad = await call('PUT', '/v1/rules/bad', 'admin', {
    ...welcome,
    audience: { kind: 'crowd' },
  });
  expect([bad.status, bad.body?.code]).toEqual([400, 'BAD_RULE']);
  expect(bad.body?.msg).toContain('audience');
  expect((await call('PUT', '/v1/rules/bad', 'admin', '{nope')).body?.code).toBe('BAD_JSON');
  expect((await call('PUT', '/v1/rules/w', 'reader', welcome)).body?.code).toBe('FORBIDDEN');
  expect((await call('GET', '/v1/rules')).status).toBe(401);
});
