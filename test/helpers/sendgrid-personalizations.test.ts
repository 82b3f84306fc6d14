import { describe, expect, it } from 'vitest';
import { mailSendBody } from './email-fixtures.js';
import { validateMailSend } from './sendgrid-schema.js';

type Json = Record<string, unknown>;

const first = (body: Json) => (body.personalizations as Json[])[0]!;
const recipients = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ email: `fan${from + i}@example.com` }));

/** One rule each, from https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors. */
const refusals: Array<{
  name: string;
  change: (b: Json) => unknown;
  field: string;
  message: RegExp;
}> = [
  {
    name: 'missing personalizations',
    change: (b) => delete b.personalizations,
    field: 'personalizations',
    message: /at least one personalization/,
  },
  {
    name: 'empty personalizations',
    change: (b) => (b.personalizations = []),
    field: 'personalizations',
    message: /at least one personalization/,
  },
  {
    name: 'more than 1000 personalizations',
    change: (b) => (b.personalizations = recipients(1001).map((r) => ({ to: [r] }))),
    field: 'personalizations',
    message: /limited to 1000 personalizations.*1001/,
  },
  {
    name: 'more than 1000 recipients in all',
    change: (b) => (b.personalizations = [0, 1].map((i) => ({ to: recipients(501, i * 501) }))),
    field: 'personalizations',
    message: /limit of 1000 total recipients/,
  },
  {
    name: 'a personalization that is not an object',
    change: (b) => (b.personalizations = ['fan1@example.com']),
    field: 'personalizations.0',
    message: /must be an object/,
  },
  {
    name: 'an unknown personalization field',
    change: (b) => (first(b).customArgs = {}),
    field: 'personalizations.0.customArgs',
    message: /Unknown field/,
  },
  {
    name: 'a personalization without to',
    change: (b) => delete first(b).to,
    field: 'personalizations.0.to',
    message: /to array is required/,
  },
  {
    name: 'a cc that is not an array',
    change: (b) => (first(b).cc = { email: 'x@y.example' }),
    field: 'personalizations.0.cc',
    message: /array of email objects/,
  },
  {
    name: 'a recipient without a valid address',
    change: (b) => (first(b).to = [{ email: 'fan one@example.com' }]),
    field: 'personalizations.0.to.0.email',
    message: /valid address/,
  },
  {
    name: 'an unknown field in an email object',
    change: (b) => (first(b).to = [{ email: 'a@b.example', nam: 'A' }]),
    field: 'personalizations.0.to.0.nam',
    message: /Unknown field/,
  },
  {
    name: 'an address twice across to and bcc',
    change: (b) => (first(b).bcc = [{ email: 'FAN1@example.com' }]),
    field: 'personalizations.0.bcc.0.email',
    message: /unique between to, cc, and bcc/,
  },
  {
    name: 'an empty personalization subject',
    change: (b) => (first(b).subject = ''),
    field: 'personalizations.0.subject',
    message: /non-empty string/,
  },
  {
    name: 'a personalization from without a valid address',
    change: (b) => (first(b).from = { email: 'x' }),
    field: 'personalizations.0.from.email',
    message: /valid address/,
  },
  {
    name: 'a personalization send_at that is not an integer',
    change: (b) => (first(b).send_at = '2026'),
    field: 'personalizations.0.send_at',
    message: /integer/,
  },
  {
    name: 'substitutions with a number',
    change: (b) => (first(b).substitutions = { '-n-': 3 }),
    field: 'personalizations.0.substitutions.-n-',
    message: /must be strings/,
  },
  {
    name: 'personalization custom_args with a boolean',
    change: (b) => (first(b).custom_args = { vip: true }),
    field: 'personalizations.0.custom_args.vip',
    message: /must be strings/,
  },
  {
    name: 'dynamic_template_data that is not an object',
    change: (b) => (first(b).dynamic_template_data = 'x'),
    field: 'personalizations.0.dynamic_template_data',
    message: /must be an object/,
  },
  {
    name: 'a header value with CRLF',
    change: (b) => (first(b).headers = { 'X-A': 'a\r\nBcc: x@y.example' }),
    field: 'personalizations.0.headers.X-A',
    message: /CRLF/,
  },
];

describe('SendGrid v3 mail send personalizations (the double’s validator)', () => {
  it.each(refusals)('refuses $name, naming the field', ({ change, field, message }) => {
    const body = mailSendBody();
    change(body);
    expect(validateMailSend(body)).toEqual([
      { field, message: expect.stringMatching(message), help: null },
    ]);
  });

  it('takes exactly 1000 personalizations with a subject each and no top-level subject', () => {
    const body = mailSendBody();
    delete body.subject;
    body.personalizations = recipients(1000).map((r, i) => ({ to: [r], subject: `Show ${i}` }));
    expect(validateMailSend(body)).toEqual([]);
  });

  it('takes 1000 recipients across to, cc and bcc', () => {
    const body = mailSendBody();
    const all = recipients(1000);
    body.personalizations = [
      { to: all.slice(0, 400), cc: all.slice(400, 700), bcc: all.slice(700) },
    ];
    expect(validateMailSend(body)).toEqual([]);
  });
});
