import type { TemplatedApp } from 'uWebSockets.js';
import { ZodError } from 'zod';
import { BacklineError } from '../../errors.js';
import {
  defaultLocale,
  localeSchema,
  templateIdSchema,
  type EmailTemplates,
} from '../../notify/channels/email/templates.js';
import { jsonBody } from './json-body.js';
import { createRoutes, type RouteDeps } from './route.js';

export interface HttpTemplatesDeps extends RouteDeps {
  templates: EmailTemplates;
}

/**
 * Email templates over HTTP, per project and locale: `GET /v1/templates` (read: every
 * template's locales, and the layout), `GET /v1/templates/:name` (read: each locale's
 * `{subject, html, text}`), `PUT /v1/templates/:name?locale=en` (admin: define or replace one
 * locale), `DELETE /v1/templates/:name?locale=…` (admin: 204, or 404 UNKNOWN_TEMPLATE) and
 * `PUT /v1/templates-layout` (admin: `{html, text?}` with a `{{{content}}}` slot). A bad
 * name, locale, template or layout is 400 BAD_TEMPLATE naming the field and the problem.
 *
 * @example
 * registerHttpTemplates(app, { templates: createEmailTemplates(state), auth, metrics, log, rateLimits });
 */
export function registerHttpTemplates(app: TemplatedApp, deps: HttpTemplatesDeps): void {
  const { templates } = deps;
  const route = createRoutes(app, deps);

  async function locales(project: string, name: string) {
    const ids = (await templates.list(project)).filter((t) => t.id === name);
    const found = await Promise.all(
      ids.map(async ({ locale }) => [locale, await templates.get(project, name, locale)] as const),
    );
    return Object.fromEntries(found.filter(([, template]) => template !== undefined));
  }

  route('get', '/v1/templates', 'read', async ({ reply, principal }) => {
    const byName = new Map<string, string[]>();
    for (const { id, locale } of await templates.list(principal.projectId))
      byName.set(id, [...(byName.get(id) ?? []), locale]);
    const list = [...byName].map(([name, locales]) => ({ name, locales }));
    const layout = (await templates.getLayout(principal.projectId)) ?? null;
    reply.json(200, { templates: list, layout });
  });

  route('get', '/v1/templates/:name', 'read', async ({ reply, principal, name }) => {
    const found = await locales(principal.projectId, name);
    if (Object.keys(found).length === 0) throw new BacklineError('UNKNOWN_TEMPLATE');
    reply.json(200, { name, locales: found });
  });

  route('put', '/v1/templates/:name', 'admin', async (request) => {
    const { reply, principal, name, info, body, audit } = request;
    const locale = checked('locale', () =>
      localeSchema.parse(info.query.get('locale') ?? defaultLocale),
    );
    checked('name', () => templateIdSchema.parse(name));
    audit.target = `${name}/${locale}`;
    audit.before = await templates.get(principal.projectId, name, locale);
    const raw = await jsonBody(body);
    const template = await checked('', () => templates.put(principal.projectId, name, locale, raw));
    audit.after = template;
    reply.json(200, { name, locale, ...template });
  });

  route('del', '/v1/templates/:name', 'admin', async ({ reply, principal, name, info, audit }) => {
    const raw = info.query.get('locale');
    if (raw === null) throw new BacklineError('BAD_QUERY', 'locale: required');
    const locale = checked('locale', () => localeSchema.parse(raw));
    audit.target = `${name}/${locale}`;
    audit.before = await templates.get(principal.projectId, name, locale);
    if (!audit.before) throw new BacklineError('UNKNOWN_TEMPLATE');
    await templates.remove(principal.projectId, name, locale);
    reply.send(204, 'application/json', '');
  });

  route('put', '/v1/templates-layout', 'admin', async ({ reply, principal, body, audit }) => {
    audit.target = 'layout';
    audit.before = await templates.getLayout(principal.projectId);
    const raw = await jsonBody(body);
    audit.after = await checked('', () => templates.putLayout(principal.projectId, raw));
    reply.json(200, audit.after);
  });
}

/**
 * Runs `parse` and turns a zod error (thrown at once or rejected) into BAD_TEMPLATE naming
 * the first bad field, under `field` when the value is not an object (a name, a locale).
 */
function checked<T>(field: string, parse: () => T): T {
  try {
    const value = parse();
    if (value instanceof Promise) return value.catch((err) => rethrow(field, err)) as T;
    return value;
  } catch (err) {
    return rethrow(field, err);
  }
}

function rethrow(field: string, err: unknown): never {
  if (!(err instanceof ZodError)) throw err;
  const issue = err.issues[0]!;
  const path = [field, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)';
  throw new BacklineError('BAD_TEMPLATE', `${path}: ${issue.message}`, { cause: err });
}
