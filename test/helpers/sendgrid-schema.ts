import {
  address,
  headers,
  isObject,
  stringMap,
  type Fail,
  type Json,
  type SendGridError,
} from './sendgrid-fields.js';
import { personalizations } from './sendgrid-personalizations.js';

export type { SendGridError } from './sendgrid-fields.js';

/**
 * The request body of SendGrid's v3 `POST /v3/mail/send`, checked as the documented schema
 * and error list say (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send,
 * …/mail-send/errors), answering SendGrid-style errors `{message, field, help}`, every one
 * found rather than the first. Stricter than SendGrid in one way on purpose: unknown fields
 * are refused, because SendGrid silently ignores them and a misspelt `customArgs` would
 * quietly break webhook mapping.
 */
export function validateMailSend(body: unknown): SendGridError[] {
  if (!isObject(body)) return [{ message: 'Bad Request', field: null, help: null }];
  const errors: SendGridError[] = [];
  const fail: Fail = (field, message) => errors.push({ message, field, help: null });
  for (const key of Object.keys(body)) if (!topLevel.has(key)) fail(key, 'Unknown field.');
  personalizations(body.personalizations, fail);
  senders(body, fail);
  const templated = typeof body.template_id === 'string' && body.template_id !== '';
  subject(body, templated, fail);
  content(body.content, templated, fail);
  headers(body.headers, 'headers', fail);
  stringMap(body.custom_args, 'custom_args', fail);
  customArgsSize(body, fail);
  categories(body.categories, fail);
  if (body.send_at !== undefined && !Number.isInteger(body.send_at))
    fail('send_at', 'send_at must be an integer (unix seconds).');
  const pool = body.ip_pool_name;
  if (pool !== undefined && (typeof pool !== 'string' || pool.length < 2 || pool.length > 64))
    fail('ip_pool_name', 'The ip_pool_name must be a string of 2 to 64 characters.');
  return errors;
}

const topLevel = new Set([
  'personalizations',
  'from',
  'reply_to',
  'reply_to_list',
  'subject',
  'content',
  'attachments',
  'template_id',
  'headers',
  'categories',
  'custom_args',
  'send_at',
  'batch_id',
  'asm',
  'ip_pool_name',
  'mail_settings',
  'tracking_settings',
  'sections',
]);

/** `from` is required; `reply_to` and `reply_to_list` exclude each other. */
function senders(body: Json, fail: Fail): void {
  if (body.from === undefined)
    fail(
      'from.email',
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
    );
  else address(body.from, 'from', fail);
  if (body.reply_to !== undefined) address(body.reply_to, 'reply_to', fail);
  if (body.reply_to !== undefined && body.reply_to_list !== undefined)
    fail('reply_to_list', 'The reply_to and reply_to_list fields cannot both be present.');
}

/** A subject at the top, in every personalization, or from a template. */
function subject(body: Json, templated: boolean, fail: Fail): void {
  if (body.subject !== undefined && (typeof body.subject !== 'string' || body.subject === ''))
    return fail('subject', 'The subject must be a non-empty string.');
  const list = Array.isArray(body.personalizations) ? body.personalizations : [];
  const everyHasOne =
    list.length > 0 && list.every((p) => isObject(p) && typeof p.subject === 'string');
  if (body.subject === undefined && !templated && !everyHasOne)
    fail(
      'subject',
      'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
    );
}

const contentOrder =
  'If present, text/plain must be first, followed by text/html, followed by any other content.';

/** Content blocks: required without a template; text/plain, then text/html, each at most once. */
function content(value: unknown, templated: boolean, fail: Fail): void {
  if (value === undefined) {
    if (!templated)
      fail(
        'content',
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
      );
    return;
  }
  if (!Array.isArray(value) || value.length === 0)
    return fail('content', 'The content field must be an array with at least one content block.');
  const types = value.map((c: unknown) => (isObject(c) ? c.type : undefined));
  value.forEach((c: unknown, i) => {
    const at = `content.${i}`;
    if (!isObject(c)) return fail(at, 'A content block must be an object with type and value.');
    if (typeof c.type !== 'string' || c.type === '' || /[;\r\n]/.test(c.type))
      fail(
        `${at}.type`,
        'The content type cannot contain ";", or CRLF characters, and must be at least one character long.',
      );
    if (typeof c.value !== 'string' || c.value === '')
      fail(`${at}.value`, 'The content value must be a string at least one character in length.');
    if (c.type === 'text/plain' || c.type === 'text/html') {
      if (types.indexOf(c.type) !== i)
        fail(`${at}.type`, 'If present, text/plain and text/html may only be provided once.');
      const htmlPlace = types[0] === 'text/plain' ? 1 : 0;
      const place = c.type === 'text/plain' ? 0 : htmlPlace;
      if (types.indexOf(c.type) === i && i !== place) fail(`${at}.type`, contentOrder);
    }
  });
}

function categories(value: unknown, fail: Fail): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length > 10)
    return fail('categories', 'Categories must be an array of at most 10 items.');
  const seen = new Set<unknown>();
  value.forEach((c: unknown, i) => {
    if (typeof c !== 'string' || c.length === 0 || c.length > 255 || !/^[\x20-\x7e]*$/.test(c))
      fail(`categories.${i}`, 'A category must be an ASCII string of 1 to 255 characters.');
    if (seen.has(c)) fail(`categories.${i}`, 'Categories must be unique.');
    seen.add(c);
  });
}

/** custom_args of a personalization plus the message-level ones: under 10,000 bytes. */
function customArgsSize(body: Json, fail: Fail): void {
  const global = Buffer.byteLength(JSON.stringify(body.custom_args ?? {}));
  const list = Array.isArray(body.personalizations) ? body.personalizations : [];
  list.forEach((p: unknown, i) => {
    const own = isObject(p) ? Buffer.byteLength(JSON.stringify(p.custom_args ?? {})) : 0;
    if (own + global > 10_000)
      fail(
        `personalizations.${i}.custom_args`,
        'The custom_args of a personalization and the message together must be less than 10000 bytes.',
      );
  });
}
