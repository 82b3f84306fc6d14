import { readPath } from '../../../lib/field-path.js';
import { slot, slotContexts, type HtmlContext } from './html-context.js';

/**
 * `{{name}}` or `{{a.b}}`: a value from the variables, escaped for where it stands; and a
 * layout's `{{{content}}}`: the rendered template, inserted as is (it is escaped already).
 */
const placeholder = /\{\{\{\s*content\s*\}\}\}|\{\{\s*([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*\}\}/g;
export const contentSlot = '{{{content}}}';

/** A placeholder's path; the content slot has none. */
type Part = string | { path: string[] | undefined; context: HtmlContext | undefined };

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface EmailParts {
  subject: string;
  html: string;
  text: string;
}

export interface LayoutParts {
  html: string;
  text: string;
}

/**
 * Splits a template into literals and placeholders; for HTML, each placeholder also gets
 * its context. Compiled forms are cached by source: a campaign renders one template for
 * thousands of users.
 */
function compile(source: string, html: boolean): Part[] {
  const cache = html ? htmlCache : plainCache;
  const cached = cache.get(source);
  if (cached) return cached;
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(placeholder)) {
    parts.push(source.slice(last, match.index));
    parts.push({ path: match[1]?.split('.'), context: undefined });
    last = match.index + match[0].length;
  }
  parts.push(source.slice(last));
  if (html) {
    const contexts = slotContexts(parts.map((p) => (typeof p === 'string' ? p : slot)).join(''));
    let n = 0;
    for (const p of parts) if (typeof p !== 'string') p.context = contexts[n++];
  }
  if (cache.size >= 1000) cache.clear();
  cache.set(source, parts);
  return parts;
}

const htmlCache = new Map<string, Part[]>();
const plainCache = new Map<string, Part[]>();

/** Why an HTML template or layout cannot be rendered safely, or undefined when it can. */
export function unsafePlaceholder(html: string): string | undefined {
  if (html.includes(slot)) return 'contains a NUL character';
  for (const p of compile(html, true)) {
    if (typeof p === 'string') continue;
    const name = p.path ? `{{${p.path.join('.')}}}` : contentSlot;
    if (p.context?.kind === 'refused') return `${name} ${p.context.why}`;
    if (!p.path && p.context?.kind !== 'text') return `${contentSlot} must stand in element text`;
  }
  return undefined;
}

function lookup(variables: Record<string, unknown>, path: string[]): string {
  const value = readPath(variables, path);
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text as HTML element content or a quoted attribute value. */
export const escapeHtml = (value: string): string =>
  value.replace(/[&<>"'`]/g, (c) => entities[c]!);

/** Unquoted attribute values end at any space or `>`: every non-alphanumeric is encoded. */
const escapeUnquoted = (value: string): string =>
  value.replace(/[^A-Za-z0-9]/gu, (c) => `&#x${c.codePointAt(0)!.toString(16)};`);

const urlAttributes = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'background',
  'cite',
  'poster',
  'xlink:href',
  'srcset',
]);

/** `javascript:` and other schemes that run code never reach an href or src. */
function safeUrl(value: string): string {
  // Browsers ignore control characters and spaces inside a scheme (`java\tscript:`).
  const compact = withoutControls(value, true);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(compact)?.[1]?.toLowerCase();
  return scheme === undefined || ['http', 'https', 'mailto', 'tel'].includes(scheme)
    ? value
    : '#unsafe-url';
}

/** Drops C0 and C1 control characters, and spaces too when asked. */
function withoutControls(value: string, spaces = false): string {
  let out = '';
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || (spaces && code === 0x20)) continue;
    out += c;
  }
  return out;
}

function escapeFor(context: HtmlContext | undefined, value: string): string {
  if (context?.kind !== 'attr') return escapeHtml(value);
  const checked = urlAttributes.has(context.name) && context.atValueStart ? safeUrl(value) : value;
  return context.quoted ? escapeHtml(checked) : escapeUnquoted(checked);
}

/** One pass over the compiled parts: a value or the content is never read as template again. */
function fill(
  source: string,
  variables: Record<string, unknown>,
  html: boolean,
  content = '',
): string {
  let out = '';
  for (const p of compile(source, html)) {
    if (typeof p === 'string') out += p;
    else if (!p.path) out += content;
    else if (html) out += escapeFor(p.context, lookup(variables, p.path));
    else out += lookup(variables, p.path);
  }
  return out;
}

/**
 * Renders a template: values are HTML-escaped in the HTML part (by context, attributes
 * included), raw in the text part, and raw in the subject minus line breaks (a header).
 *
 * @example
 * renderEmail({ subject: 'Hi {{name}}', html: '<p>{{name}}</p>', text: '{{name}}' }, undefined, { name: '<b>' });
 * // { subject: 'Hi <b>', html: '<p>&lt;b&gt;</p>', text: '<b>' }
 */
export function renderEmail(
  template: EmailParts,
  layout: LayoutParts | undefined,
  variables: Record<string, unknown>,
): RenderedEmail {
  let subject = fill(template.subject, variables, false)
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .trim();
  subject = withoutControls(subject);
  let html = fill(template.html, variables, true);
  let text = fill(template.text, variables, false);
  if (layout) {
    html = fill(layout.html, variables, true, html);
    text = fill(layout.text, variables, false, text);
  }
  return { subject, html, text };
}
