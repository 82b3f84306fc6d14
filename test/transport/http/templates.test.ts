import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createEmailTemplates,
  type EmailTemplates,
} from '../../../src/notify/channels/email/templates.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { openLmdbStateStore } from '../../../src/state/lmdb-state-store.js';
import { registerHttpTemplates } from '../../../src/transport/http/templates.js';
import { loadUws } from '../../../src/transport/uws.js';
import { log, tempDir } from '../../rules/rules-fixtures.js';
import { jsonCaller, listenOnLoopback } from '../../helpers/loopback-app.js';
import { auth } from '../../helpers/key-auth.js';
import { memoryRateLimits } from '../../helpers/rate-limits.js';

const { uws } = loadUws(true);
let server: Awaited<ReturnType<typeof listenOnLoopback>>;
let templates: EmailTemplates;

beforeAll(async () => {
  templates = createEmailTemplates(openLmdbStateStore(tempDir('http-templates')));
  const app = uws.App();
  const rateLimits = memoryRateLimits();
  registerHttpTemplates(app, { templates, auth, metrics: createMetrics(), log, rateLimits });
  server = await listenOnLoopback(uws, app);
});
afterAll(() => server.close());

const call = jsonCaller(() => server.origin);

const hello = { subject: 'Hi {{name}}', html: '<p>Hi {{name}}</p>', text: 'Hi {{name}}' };
const hallo = { subject: 'Hallo {{name}}', html: '<p>Hallo {{name}}</p>', text: 'Hallo {{name}}' };

it('defines locales of a template, lists and reads them, and renders what was put', async () => {
  const put = await call('PUT', '/v1/templates/hello', 'admin', hello);
  expect([put.status, put.body]).toEqual([200, { name: 'hello', locale: 'en', ...hello }]);
  expect((await call('PUT', '/v1/templates/hello?locale=de-AT', 'admin', hallo)).status).toBe(200);

  expect((await call('GET', '/v1/templates', 'reader')).body).toEqual({
    templates: [{ name: 'hello', locales: expect.arrayContaining(['en', 'de-at']) as unknown }],
    layout: null,
  });
  expect((await call('GET', '/v1/templates/hello', 'reader')).body).toEqual({
    name: 'hello',
    locales: { en: hello, 'de-at': hallo },
  });
  expect((await call('GET', '/v1/templates', 'other')).body).toEqual({
    templates: [],
    layout: null,
  });
  const rendered = await templates.render('shop', 'hello', 'de-AT', { name: 'Ada <3' });
  expect(rendered).toMatchObject({ subject: 'Hallo Ada <3', html: '<p>Hallo Ada &lt;3</p>' });
});

it('deletes one locale: 204, then 404 UNKNOWN_TEMPLATE; other projects cannot', async () => {
  await call('PUT', '/v1/templates/bye?locale=fr', 'admin', hello);
  await call('PUT', '/v1/templates/bye', 'admin', hello);
  const foreign = await call('DELETE', '/v1/templates/bye?locale=fr', 'other');
  expect([foreign.status, foreign.body?.code]).toEqual([404, 'UNKNOWN_TEMPLATE']);
  expect((await call('DELETE', '/v1/templates/bye?locale=fr', 'admin')).status).toBe(204);
  const again = await call('DELETE', '/v1/templates/bye?locale=fr', 'admin');
  expect([again.status, again.body?.code]).toEqual([404, 'UNKNOWN_TEMPLATE']);
  expect((await call('GET', '/v1/templates/bye', 'reader')).body).toEqual({
    name: 'bye',
    locales: { en: hello },
  });
  expect((await call('DELETE', '/v1/templates/bye', 'admin')).body?.code).toBe('BAD_QUERY');
  expect((await call('DELETE', '/v1/templates/bye?locale=en', 'admin')).status).toBe(204);
  const gone = await call('GET', '/v1/templates/bye', 'reader');
  expect([gone.status, gone.body?.code]).toEqual([404, 'UNKNOWN_TEMPLATE']);
});

it('puts the layout, which wraps every rendered template', async () => {
  const layout = { html: '<div class="frame">{{{content}}}</div>', text: '{{{content}}}\n--\nbye' };
  expect((await call('PUT', '/v1/templates-layout', 'admin', layout)).body).toEqual(layout);
  expect((await call('GET', '/v1/templates', 'reader')).body?.layout).toEqual(layout);
  const rendered = await templates.render('shop', 'hello', 'en', { name: 'Ada' });
  expect(rendered?.html).toBe('<div class="frame"><p>Hi Ada</p></div>');
  expect(rendered?.text).toBe('Hi Ada\n--\nbye');
  const noSlot = await call('PUT', '/v1/templates-layout', 'admin', { html: '<div></div>' });
  expect([noSlot.status, noSlot.body?.code]).toEqual([400, 'BAD_TEMPLATE']);
  expect(noSlot.body?.msg).toMatch(/^html: .*\{\{\{content\}\}\}/);
});

it('answers bad templates with BAD_TEMPLATE naming the problem, and stores nothing', async () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['/v1/templates/x', { ...hello, subject: 'two\nlines' }, /^subject: the subject is one line/],
    ['/v1/templates/x', { ...hello, html: '<script>{{name}}</script>' }, /^html: \{\{name\}\} /],
    ['/v1/templates/x', { subject: 's', text: 't' }, /^html: /],
    ['/v1/templates/x', [], /^\(body\): /],
    ['/v1/templates/x?locale=english!', hello, /^locale: a locale such as en/],
    ['/v1/templates/bad%20name', hello, /^name: template ids are/],
  ];
  for (const [path, body, message] of cases) {
    const res = await call('PUT', path, 'admin', body);
    expect([res.status, res.body?.code], path).toEqual([400, 'BAD_TEMPLATE']);
    expect(res.body?.msg).toMatch(message);
  }
  expect((await call('PUT', '/v1/templates/x', 'admin', '{nope')).body?.code).toBe('BAD_JSON');
  expect((await call('GET', '/v1/templates/x', 'reader')).status).toBe(404);
});

it('needs a read key to look and an admin key to change', async () => {
  expect((await call('GET', '/v1/templates')).body?.code).toBe('UNAUTHORIZED');
  const cases: Array<[string, string, unknown]> = [
    ['PUT', '/v1/templates/hello', hello],
    ['DELETE', '/v1/templates/hello?locale=en', undefined],
    ['PUT', '/v1/templates-layout', { html: '{{{content}}}' }],
  ];
  for (const [method, path, body] of cases) {
    const res = await call(method, path, 'reader', body);
    expect([res.status, res.body?.code], `${method} ${path}`).toEqual([403, 'FORBIDDEN']);
  }
  expect((await call('GET', '/v1/templates/hello', 'reader')).status).toBe(200);
});
