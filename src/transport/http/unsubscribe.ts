import { randomUUID } from 'node:crypto';
import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import { escapeHtml } from '../../notify/channels/email/render-email.js';
import {
  unsubscribePath,
  type UnsubscribeLinks,
  type UnsubscribeTarget,
} from '../../notify/channels/email/unsubscribe-links.js';
import type { PreferenceStore, Preferences } from '../../notify/preferences.js';
import { userPseudonym } from '../../privacy/pseudonym.js';
import { userCaller } from '../rate-limits.js';
import { createRoutes, type Access, type RouteDeps } from './route.js';

/** Every category at once: what "unsubscribe from all" turns off (critical email still goes). */
const allCategories = '*';

export interface HttpUnsubscribeDeps extends RouteDeps {
  links: Pick<UnsubscribeLinks, 'verify'>;
  preferences: Pick<PreferenceStore, 'get' | 'put'>;
  /** Hands the `email.unsubscribe` event to the project's stream; resolves once stored. */
  track: (project: string, event: UnsubscribeEvent) => Promise<unknown>;
}

/** The event an unsubscribe becomes, in protocol v1 shape. */
export interface UnsubscribeEvent {
  id: string;
  type: 'email.unsubscribe';
  ts: number;
  userId: string;
  props: { category: string; scope: 'category' | 'all'; via: 'link'; unsubscribe: 1 };
}

/** The link's token is the credential: valid, it grants its user's unsubscribe only. */
const linkAccess =
  (links: HttpUnsubscribeDeps['links']): Access<'link', { target: UnsubscribeTarget }> =>
  (_credentials, param) => {
    const target = links.verify(param);
    if (!target) throw new BacklineError('BAD_UNSUBSCRIBE_LINK');
    const pseudonym = userPseudonym(target.project, target.userId);
    return {
      target,
      caller: userCaller(target.project, target.userId),
      subject: { project: target.project, actor: `user:${pseudonym}`, target: pseudonym },
    };
  };

/**
 * One-click unsubscribe (RFC 8058), the target of every non-critical email's
 * `List-Unsubscribe`: `POST /v1/unsubscribe/:token` turns email off for the link's category
 * (body `List-Unsubscribe=One-Click`, as mail clients send it, form-encoded or multipart), or
 * for every category with `scope=all` in a form-encoded body; it answers a short page, never a
 * redirect (RFC 8058 §3.2). `GET` only shows a confirmation page with those two buttons: mail
 * scanners fetch links, so a GET changes nothing. The change is audited (the user named by
 * pseudonym) and becomes an `email.unsubscribe` event. A token no configured secret signed is
 * 404 `BAD_UNSUBSCRIBE_LINK`. Each call takes one request from the user's budget.
 *
 * @example
 * registerHttpUnsubscribe(app, { ...common, links, preferences, track });
 */
export function registerHttpUnsubscribe(app: TemplatedApp, deps: HttpUnsubscribeDeps): void {
  const { preferences } = deps;
  const route = createRoutes(app, deps, { access: linkAccess(deps.links), maxBodyBytes: 4096 });
  const pattern = `${unsubscribePath}/:token`;

  route('get', pattern, 'link', ({ reply, target }) => {
    reply.send(200, 'text/html; charset=utf-8', confirmPage(target), pageHeaders);
  });

  route('post', pattern, 'link', async ({ reply, target, body, info, audit }) => {
    const scope = scopeOf(await body, info.contentType);
    const { project, userId, category } = target;
    const before = await preferences.get(project, userId);
    audit.always = true;
    audit.before = before;
    audit.after = await preferences.put(project, userId, withEmailOff(before, scope, category));
    const event: UnsubscribeEvent = {
      id: `unsubscribe-${randomUUID()}`,
      type: 'email.unsubscribe',
      ts: Date.now(),
      userId,
      props: { category, scope, via: 'link', unsubscribe: 1 },
    };
    await deps.track(project, event);
    reply.send(200, 'text/html; charset=utf-8', donePage(scope, category), pageHeaders);
  });
}

/** `all` only when a form-encoded body asks for it; a one-click POST is the link's category. */
function scopeOf(body: Buffer | undefined, contentType: string | undefined): 'category' | 'all' {
  if (!body || !contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    return 'category';
  return new URLSearchParams(body.toString('utf8')).get('scope') === 'all' ? 'all' : 'category';
}

function withEmailOff(
  preferences: Preferences,
  scope: 'category' | 'all',
  category: string,
): Preferences {
  const key = scope === 'all' ? allCategories : category;
  return {
    ...preferences,
    categories: {
      ...preferences.categories,
      [key]: { ...preferences.categories[key], email: false },
    },
  };
}

/** A page with no script and nothing from elsewhere; its forms post back to the same link. */
const pageHeaders = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

const page = (title: string, content: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
button{font:inherit;padding:.5rem 1rem;margin:.25rem 0;cursor:pointer}</style></head>
<body>${content}</body></html>
`;

function confirmPage({ category }: UnsubscribeTarget): string {
  const name = escapeHtml(category);
  const button = (label: string, scope: string) =>
    `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">` +
    `<input type="hidden" name="scope" value="${scope}"><button type="submit">${label}</button></form>`;
  return page(
    'Unsubscribe',
    `<h1>Unsubscribe</h1><p>Stop emails of the category <strong>${name}</strong>?</p>` +
      button(`Unsubscribe from ${name}`, 'category') +
      button('Unsubscribe from all emails but essential ones', 'all'),
  );
}

function donePage(scope: 'category' | 'all', category: string): string {
  const what =
    scope === 'all'
      ? 'You will get no more emails but essential ones'
      : `You will get no more emails of the category <strong>${escapeHtml(category)}</strong>`;
  return page('Unsubscribed', `<h1>Unsubscribed</h1><p>${what}.</p>`);
}
