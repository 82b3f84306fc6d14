import { readPath } from '../lib/field-path.js';

/**
 * `{{path}}` templates over a firing's context, as plain text. Escaping belongs to the
 * channel that puts the text into a markup (the email channel escapes HTML), so the same
 * rendered title can go to a push notification and an inbox unchanged.
 */
export type Context = Readonly<Record<string, unknown>>;

const placeholder = /\{\{\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}/g;
const whole = /^\{\{\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}$/;

/** Text of a value as it appears in a message: absent is empty, objects are JSON. */
export function asMessageText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Fills every `{{path}}` of `template` from `context`; an unknown path renders empty.
 *
 * @example
 * render('{{props.artist}} plays in 1 h', { props: { artist: 'Low' } }); // 'Low plays in 1 h'
 */
export function render(template: string, context: Context): string {
  return template.replace(placeholder, (_match, path: string) =>
    asMessageText(readPath(context, path)),
  );
}

/**
 * Renders every string inside `value` (objects and arrays walked). A string that is one
 * placeholder and nothing else keeps the value's own type, so `"{{value}}"` in `data`
 * stays a number for the client.
 */
export function renderValue(value: unknown, context: Context): unknown {
  if (typeof value === 'string') {
    const only = whole.exec(value);
    return only ? (readPath(context, only[1]!) ?? null) : render(value, context);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderValue(item, context)]),
    );
  }
  return value;
}
