import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../src/auth/key-registry.js';
import { canonicalJson } from '../../src/privacy/audit-trail.js';
import { userPseudonym } from '../../src/privacy/pseudonym.js';
import { eventually } from '../helpers/eventually.js';
import { inProcessKeys, startInProcessServer } from '../helpers/in-process-server.js';
import { removeDir } from '../helpers/server-process.js';

let app: Awaited<ReturnType<typeof startInProcessServer>>;
beforeAll(async () => {
  app = await startInProcessServer();
});
afterAll(async () => {
  await app.stop();
  removeDir(app.dataDir);
});

interface Entry {
  ts: number;
  actor: string;
  action: string;
  target: string;
  status: number;
  before_hash: string;
  after_hash: string;
  request_id: string;
}

const call = async (method: string, path: string, key: string, body?: unknown, id?: string) => {
  const res = await fetch(app.origin + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(id ? { 'x-request-id': id } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json =
    res.headers.get('content-type')?.startsWith('application/json') && text
      ? JSON.parse(text)
      : text;
  return { status: res.status, body: json, requestId: res.headers.get('x-request-id') };
};

const entries = async (key = inProcessKeys.admin, query = ''): Promise<Entry[]> =>
  (await call('GET', `/v1/audit?limit=10000${query}`, key)).body.entries as Entry[];

/** The audit entry of each request id, once every one is stored. */
async function auditedAs(ids: readonly string[]): Promise<Map<string, Entry>> {
  let found = new Map<string, Entry>();
  await eventually(
    async () => {
      found = new Map((await entries()).map((entry) => [entry.request_id, entry]));
      return ids.every((id) => found.has(id));
    },
    15_000,
    `audit entries of ${ids.length} requests`,
  );
  return found;
}

const sha256 = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');
const actor = `key:${keyIdOf(inProcessKeys.admin)}`;

describe('audit log', () => {
  it('writes a row for every admin write route the server registers, whatever the outcome', async () => {
    const audited = app.server.routes().routes.filter((route) => route.audited);
    // The routes this test must cover by name: a new admin route joins the list by itself.
    const actions = audited.map((r) => `${r.method} ${r.pattern}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'PUT /v1/streams/:name',
        'DELETE /v1/streams/:name',
        'PUT /v1/rules/:name',
        'DELETE /v1/rules/:name',
        'PUT /v1/templates/:name',
        'DELETE /v1/templates/:name',
        'PUT /v1/templates-layout',
        'POST /v1/users/:id/token',
        'PUT /v1/users/:id/preferences',
        'DELETE /v1/users/:id',
      ]),
    );
    const ids = audited.map((_, i) => `route-${i}-${Date.now()}`);
    for (const [i, route] of audited.entries()) {
      const path = route.pattern.replace(':name', 'audited-thing').replace(':id', 'u-audit');
      await call(route.method, path, inProcessKeys.admin, {}, ids[i]);
    }
    const found = await auditedAs(ids);
    for (const [i, route] of audited.entries()) {
      const entry = found.get(ids[i]!)!;
      expect(entry.action).toBe(actions[i]);
      expect(entry.actor).toBe(actor);
      expect(entry.status).toBeGreaterThanOrEqual(200);
      // A user route names the user by pseudonym, never by id.
      if (route.pattern.startsWith('/v1/users/:id'))
        expect(entry.target).toBe(userPseudonym('p1', 'u-audit'));
      else if (route.pattern.includes(':id')) expect(entry.target).toBe('u-audit');
      else if (route.pattern.includes(':name')) expect(entry.target).toMatch(/^audited-thing/);
    }
  });

  it('records the hashes of a definition before and after each change', async () => {
    const rule = {
      trigger: { kind: 'event', types: ['user.signup'] },
      audience: { kind: 'user' },
      notification: { category: 'onboarding', title: 'Welcome {{userId}}', body: '' },
    };
    const first = await call('PUT', '/v1/rules/welcome', inProcessKeys.admin, rule, 'r-1');
    const changed = { ...rule, notification: { ...rule.notification, title: 'Hi' } };
    const second = await call('PUT', '/v1/rules/welcome', inProcessKeys.admin, changed, 'r-2');
    const gone = await call('DELETE', '/v1/rules/welcome', inProcessKeys.admin, undefined, 'r-3');
    expect([first.status, second.status, gone.status]).toEqual([200, 200, 204]);
    const found = await auditedAs(['r-1', 'r-2', 'r-3']);
    const [h1, h2] = [sha256(first.body), sha256(second.body)];
    expect(h1).not.toBe(h2);
    expect(found.get('r-1')).toMatchObject({ target: 'welcome', before_hash: '', after_hash: h1 });
    expect(found.get('r-2')).toMatchObject({ before_hash: h1, after_hash: h2 });
    expect(found.get('r-3')).toMatchObject({ before_hash: h2, after_hash: '', status: 204 });
  });

  it('leaves reads and a user’s own writes out, and audits every export', async () => {
    const token = (await call('POST', '/v1/users/u-self/token', inProcessKeys.admin, {})).body
      .token as string;
    await call('GET', '/v1/streams', inProcessKeys.read, undefined, 'read-1');
    await call('PUT', '/v1/users/u-self/preferences', token, { digest: 'daily' }, 'self-1');
    const exported = await call('GET', '/v1/users/u-self/export', token, undefined, 'export-1');
    expect(exported.status).toBe(200);
    expect(exported.requestId).toBe('export-1');
    const found = await auditedAs(['export-1']);
    expect(found.get('export-1')).toMatchObject({
      action: 'GET /v1/users/:id/export',
      actor: `user:${userPseudonym('p1', 'u-self')}`,
      target: userPseudonym('p1', 'u-self'),
      status: 200,
    });
    expect(found.has('read-1')).toBe(false);
    expect(found.has('self-1')).toBe(false);
  });

  it('answers only an admin key, only its own project’s entries, and checks its query', async () => {
    await call('PUT', '/v1/rules/p1-only', inProcessKeys.admin, { bad: true }, 'p1-only');
    await auditedAs(['p1-only']);
    expect((await call('GET', '/v1/audit', inProcessKeys.read)).body.code).toBe('FORBIDDEN');
    expect(await entries(inProcessKeys.otherAdmin)).toEqual([]);
    const badLimit = await call('GET', '/v1/audit?limit=0', inProcessKeys.admin);
    expect([badLimit.status, badLimit.body.code]).toEqual([400, 'BAD_QUERY']);
    const future = await entries(
      inProcessKeys.admin,
      `&from=${Date.now() + 3600_000}&to=${Date.now() + 7200_000}`,
    );
    expect(future).toEqual([]);
  });
});
