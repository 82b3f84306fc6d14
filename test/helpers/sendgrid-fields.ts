/**
 * Checks of the field kinds SendGrid's v3 mail send takes in several places (email objects,
 * `headers`, string maps), each reporting SendGrid-style `{message, field}` errors through
 * `fail`. Messages follow https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors.
 */
export interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

export type Json = Record<string, unknown>;
export type Fail = (field: string | null, message: string) => void;

export const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Headers SendGrid sets itself and refuses in `headers`. */
const reservedHeaders = new Set([
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
]);
const emailPattern = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/** An email object: `{email, name?}`, the address valid, the name free of bare `;` and `,`. */
export function address(value: unknown, at: string, fail: Fail): void {
  if (!isObject(value)) return fail(at, 'An email object must be an object with an email field.');
  for (const key of Object.keys(value))
    if (key !== 'email' && key !== 'name') fail(`${at}.${key}`, 'Unknown field.');
  if (typeof value.email !== 'string' || !emailPattern.test(value.email))
    fail(`${at}.email`, 'Does not contain a valid address.');
  if (value.name === undefined) return;
  if (typeof value.name !== 'string') fail(`${at}.name`, 'The name must be a string.');
  else if (/[;,]/.test(value.name) && !/^".*"$/.test(value.name))
    fail(
      `${at}.name`,
      'The name field may not include the ; or , characters unless the name is enclosed in quotes.',
    );
}

/** `headers`: string values without CRLF, none of the headers SendGrid sets itself. */
export function headers(value: unknown, at: string, fail: Fail): void {
  if (value === undefined) return;
  if (!isObject(value))
    return fail(at, 'Headers must be an object of header names and string values.');
  for (const [name, v] of Object.entries(value)) {
    if (reservedHeaders.has(name.toLowerCase()))
      fail(`${at}.${name}`, `The ${name} header is reserved and cannot be set.`);
    if (typeof v !== 'string') fail(`${at}.${name}`, 'Header values must be strings.');
    else if (/[\r\n]/.test(v))
      fail(`${at}.${name}`, 'Header values cannot contain CRLF characters.');
  }
}

/** `custom_args` and `substitutions`: an object whose values are all strings. */
export function stringMap(value: unknown, at: string, fail: Fail): void {
  if (value === undefined) return;
  if (!isObject(value)) return fail(at, `${at} must be an object.`);
  for (const [k, v] of Object.entries(value))
    if (typeof v !== 'string') fail(`${at}.${k}`, `The values of ${at} must be strings.`);
}
