import { address, headers, isObject, stringMap, type Fail, type Json } from './sendgrid-fields.js';

const personalizationFields = new Set([
  'to',
  'cc',
  'bcc',
  'from',
  'subject',
  'headers',
  'substitutions',
  'dynamic_template_data',
  'custom_args',
  'send_at',
]);

/** SendGrid v3: at most 1,000 personalizations, and 1,000 recipients (to + cc + bcc). */
export const maxPersonalizations = 1000;
export const maxRecipients = 1000;

/**
 * `personalizations`: 1 to 1,000 objects, each with a non-empty `to`, addresses unique across
 * its to, cc and bcc, and at most 1,000 recipients in the whole request.
 */
export function personalizations(value: unknown, fail: Fail): void {
  if (!Array.isArray(value) || value.length === 0)
    return fail(
      'personalizations',
      'The personalizations field is required and must have at least one personalization.',
    );
  if (value.length > maxPersonalizations)
    return fail(
      'personalizations',
      `The personalization block is limited to ${maxPersonalizations} personalizations per API request. You have provided ${value.length} personalizations.`,
    );
  let recipients = 0;
  value.forEach((p: unknown, i) => {
    if (!isObject(p)) return fail(`personalizations.${i}`, 'A personalization must be an object.');
    recipients += personalization(p, `personalizations.${i}`, fail);
  });
  if (recipients > maxRecipients)
    fail(
      'personalizations',
      `There is a limit of ${maxRecipients} total recipients (to + cc + bcc) per request.`,
    );
}

/** Checks one personalization; answers how many recipients it names. */
function personalization(p: Json, at: string, fail: Fail): number {
  for (const key of Object.keys(p))
    if (!personalizationFields.has(key)) fail(`${at}.${key}`, 'Unknown field.');
  if (!Array.isArray(p.to) || p.to.length === 0)
    fail(
      `${at}.to`,
      'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
    );
  const recipients = recipientLists(p, at, fail);
  if (p.subject !== undefined && (typeof p.subject !== 'string' || p.subject === ''))
    fail(`${at}.subject`, 'The subject of a personalization must be a non-empty string.');
  if (p.from !== undefined) address(p.from, `${at}.from`, fail);
  headers(p.headers, `${at}.headers`, fail);
  stringMap(p.substitutions, `${at}.substitutions`, fail);
  const substituted = isObject(p.substitutions) ? JSON.stringify(p.substitutions) : '';
  if (Buffer.byteLength(substituted) > 10_000)
    fail(
      `${at}.substitutions`,
      'The total collective size of your substitutions may not exceed 10,000 bytes per personalization object.',
    );
  stringMap(p.custom_args, `${at}.custom_args`, fail);
  if (p.dynamic_template_data !== undefined && !isObject(p.dynamic_template_data))
    fail(`${at}.dynamic_template_data`, 'dynamic_template_data must be an object.');
  if (p.send_at !== undefined && !Number.isInteger(p.send_at))
    fail(`${at}.send_at`, 'send_at must be an integer (unix seconds).');
  return recipients;
}

/** to, cc and bcc: arrays of email objects, no address twice among them. */
function recipientLists(p: Json, at: string, fail: Fail): number {
  const seen = new Set<string>();
  let count = 0;
  for (const kind of ['to', 'cc', 'bcc'] as const) {
    const list = p[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      fail(`${at}.${kind}`, `The ${kind} field must be an array of email objects.`);
      continue;
    }
    count += list.length;
    list.forEach((a: unknown, j) => {
      address(a, `${at}.${kind}.${j}`, fail);
      const email = isObject(a) && typeof a.email === 'string' ? a.email.toLowerCase() : '';
      if (email && seen.has(email))
        fail(
          `${at}.${kind}.${j}.email`,
          `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${email}] in the ${at}.${kind} field.`,
        );
      seen.add(email);
    });
  }
  return count;
}
