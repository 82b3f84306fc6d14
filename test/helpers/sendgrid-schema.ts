/**
 * The request body of SendGrid's v3 `POST /v3/mail/send`, checked as the documented schema
 * says (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send), answering
 * SendGrid-style errors `{message, field}`. Stricter than SendGrid in one way on purpose:
 * unknown fields are refused, because SendGrid silently ignores them and a misspelt
 * `customArgs` would quietly break webhook mapping.
 */
export interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

type Json = Record<string, unknown>;

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
/** Headers SendGrid sets itself and refuses in `headers`. */
const reservedHeaders = new Set(
  [
    'x-sg-id',
    'x-sg-eid',
    'received',
    'dkim-signature',
    'content-type',
    'content-transfer-encoding',
    'to',
    'from',
    'subject',
    'reply-to',
    'cc',
    'bcc',
  ].map((h) => h.toLowerCase()),
);
const emailPattern = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export function validateMailSend(body: unknown): SendGridError[] {
  const errors: SendGridError[] = [];
  const fail = (field: string | null, message: string) =>
    errors.push({ message, field, help: null });
  if (!isObject(body)) return [{ message: 'Bad Request', field: null, help: null }];
  for (const key of Object.keys(body)) if (!topLevel.has(key)) fail(key, 'Unknown field.');
  personalizations(body.personalizations, fail);
  if (body.from === undefined)
    fail(
      'from.email',
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
    );
  else address(body.from, 'from', fail);
  if (body.reply_to !== undefined) address(body.reply_to, 'reply_to', fail);
  if (body.reply_to !== undefined && body.reply_to_list !== undefined)
    fail('reply_to_list', 'The reply_to and reply_to_list fields cannot both be present.');
  const templated = typeof body.template_id === 'string' && body.template_id !== '';
  subject(body, templated, fail);
  content(body.content, templated, fail);
  headers(body.headers, 'headers', fail);
  stringMap(body.custom_args, 'custom_args', fail);
  categories(body.categories, fail);
  if (body.send_at !== undefined && !Number.isInteger(body.send_at))
    fail('send_at', 'send_at must be an integer (unix seconds).');
  if (body.ip_pool_name !== undefined) {
    const name = body.ip_pool_name;
    if (typeof name !== 'string' || name.length < 2 || name.length > 64)
      fail('ip_pool_name', 'The ip_pool_name must be a string of 2 to 64 characters.');
  }
  customArgsSize(body, fail);
  return errors;
}

type Fail = (field: string | null, message: string) => void;

function personalizations(value: unknown, fail: Fail): void {
  if (!Array.isArray(value) || value.length === 0)
    return fail(
      'personalizations',
      'The personalizations field is required and must have at least one personalization.',
    );
  if (value.length > 1000)
    return fail(
      'personalizations',
      'The personalizations field may have at most 1000 personalizations.',
    );
  let recipients = 0;
  value.forEach((p: unknown, i) => {
    const at = `personalizations.${i}`;
    if (!isObject(p)) return fail(at, 'A personalization must be an object.');
    for (const key of Object.keys(p))
      if (!personalizationFields.has(key)) fail(`${at}.${key}`, 'Unknown field.');
    if (!Array.isArray(p.to) || p.to.length === 0)
      fail(
        `${at}.to`,
        'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
      );
    const seen = new Set<string>();
    for (const kind of ['to', 'cc', 'bcc'] as const) {
      const list = p[kind];
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        fail(`${at}.${kind}`, `The ${kind} field must be an array of email objects.`);
        continue;
      }
      recipients += list.length;
      list.forEach((a: unknown, j) => {
        address(a, `${at}.${kind}.${j}`, fail);
        const email = isObject(a) && typeof a.email === 'string' ? a.email.toLowerCase() : '';
        if (seen.has(email))
          fail(
            `${at}.${kind}.${j}.email`,
            'Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [' +
              email +
              '] in the personalizations.' +
              i +
              '.' +
              kind +
              ' field.',
          );
        seen.add(email);
      });
    }
    if (p.subject !== undefined && (typeof p.subject !== 'string' || p.subject === ''))
      fail(`${at}.subject`, 'The subject of a personalization must be a non-empty string.');
    headers(p.headers, `${at}.headers`, fail);
    stringMap(p.substitutions, `${at}.substitutions`, fail);
    stringMap(p.custom_args, `${at}.custom_args`, fail);
    if (p.dynamic_template_data !== undefined && !isObject(p.dynamic_template_data))
      fail(`${at}.dynamic_template_data`, 'dynamic_template_data must be an object.');
  });
  if (recipients > 1000)
    fail(
      'personalizations',
      'The total number of recipients (to, cc and bcc) must be less than or equal to 1000.',
    );
}

function address(value: unknown, at: string, fail: Fail): void {
  if (!isObject(value)) return fail(at, 'An email object must be an object with an email field.');
  for (const key of Object.keys(value))
    if (key !== 'email' && key !== 'name') fail(`${at}.${key}`, 'Unknown field.');
  if (typeof value.email !== 'string' || !emailPattern.test(value.email))
    fail(`${at}.email`, 'Does not contain a valid address.');
  if (value.name !== undefined) {
    if (typeof value.name !== 'string') fail(`${at}.name`, 'The name must be a string.');
    else if (/[;,]/.test(value.name) && !/^".*"$/.test(value.name))
      fail(
        `${at}.name`,
        'The name field may not include the ; or , characters unless the name is enclosed in quotes.',
      );
  }
}

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
    if (c.type === 'text/plain' && i !== 0)
      fail(
        `${at}.type`,
        'If present, text/plain must be first, followed by text/html, followed by any other content.',
      );
    if (c.type === 'text/html' && i > 0 && isObject(value[0]) && value[0].type !== 'text/plain')
      fail(
        `${at}.type`,
        'If present, text/plain must be first, followed by text/html, followed by any other content.',
      );
  });
}

function headers(value: unknown, at: string, fail: Fail): void {
  if (value === undefined) return;
  if (!isObject(value))
    return fail(at, 'Headers must be an object of header names and string values.');
  for (const [name, v] of Object.entries(value)) {
    if (reservedHeaders.has(name.toLowerCase()))
      fail(`${at}.${name}`, `The ${name} header is reserved and cannot be set.`);
    if (typeof v !== 'string') fail(`${at}.${name}`, 'Header values must be strings.');
    if (typeof v === 'string' && /[\r\n]/.test(v))
      fail(`${at}.${name}`, 'Header values cannot contain CRLF characters.');
  }
}

function stringMap(value: unknown, at: string, fail: Fail): void {
  if (value === undefined) return;
  if (!isObject(value)) return fail(at, `${at} must be an object.`);
  for (const [k, v] of Object.entries(value))
    if (typeof v !== 'string') fail(`${at}.${k}`, `The values of ${at} must be strings.`);
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
  const global = JSON.stringify(body.custom_args ?? {}).length;
  const list = Array.isArray(body.personalizations) ? body.personalizations : [];
  list.forEach((p: unknown, i) => {
    const own = isObject(p) ? JSON.stringify(p.custom_args ?? {}).length : 0;
    if (own + global > 10_000)
      fail(
        `personalizations.${i}.custom_args`,
        'The custom_args of a personalization and the message together must be less than 10000 bytes.',
      );
  });
}
