import { describe, expect, it } from 'vitest';
import { mailSendBody } from './email-fixtures.js';
import { validateMailSend } from './sendgrid-schema.js';

type Json = Record<string, unknown>;

const text = (value: string) => ({ type: 'text/plain', value });
const html = (value: string) => ({ type: 'text/html', value });

/** One rule each, from https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors. */
const refusals: Array<{
  name: string;
  change: (b: Json) => unknown;
  field: string;
  message: RegExp;
}> = [
  {
    name: 'custom_args over 10,000 bytes',
    change: (b) => (b.custom_args = { pad: 'x'.repeat(10_000) }),
    field: 'personalizations.0.custom_args',
    message: /less than 10000 bytes/,
  },
  {
    name: 'an unknown field (customArgs)',
    change: (b) => (b.customArgs = {}),
    field: 'customArgs',
    message: /Unknown field/,
  },
  {
    name: 'a missing from',
    change: (b) => delete b.from,
    field: 'from.email',
    message: /from object must be provided/,
  },
  {
    name: 'a from without a valid address',
    change: (b) => (b.from = { email: 'shows@backline' }),
    field: 'from.email',
    message: /valid address/,
  },
  {
    name: 'a name with a bare comma',
    change: (b) => (b.from = { email: 'a@b.example', name: 'Shows, Inc' }),
    field: 'from.name',
    message: /; or , characters/,
  },
  {
    name: 'reply_to with reply_to_list',
    change: (b) => (b.reply_to_list = [{ email: 'x@y.example' }]),
    field: 'reply_to_list',
    message: /cannot both be present/,
  },
  {
    name: 'custom_args with a number',
    change: (b) => (b.custom_args = { user_id: 1 }),
    field: 'custom_args.user_id',
    message: /must be strings/,
  },
  {
    name: 'a subject missing without a template',
    change: (b) => delete b.subject,
    field: 'subject',
    message: /subject is required/,
  },
  {
    name: 'an empty subject',
    change: (b) => (b.subject = ''),
    field: 'subject',
    message: /non-empty string/,
  },
  {
    name: 'content missing without a template',
    change: (b) => delete b.content,
    field: 'content',
    message: /content parameter is required/,
  },
  {
    name: 'empty content',
    change: (b) => (b.content = []),
    field: 'content',
    message: /at least one content block/,
  },
  {
    name: 'a content block that is not an object',
    change: (b) => (b.content = ['A new show']),
    field: 'content.0',
    message: /must be an object/,
  },
  {
    name: 'a content type with ;',
    change: (b) => (b.content = [{ type: 'text/plain; charset=utf-8', value: 'x' }]),
    field: 'content.0.type',
    message: /cannot contain ";"/,
  },
  {
    name: 'an empty content value',
    change: (b) => (b.content = [text('x'), html('')]),
    field: 'content.1.value',
    message: /at least one character/,
  },
  {
    name: 'text/html before text/plain',
    change: (b) => (b.content = [html('<p>x</p>'), text('x')]),
    field: 'content.1.type',
    message: /text\/plain must be first/,
  },
  {
    name: 'text/html after another type',
    change: (b) => (b.content = [{ type: 'text/calendar', value: 'x' }, html('x')]),
    field: 'content.1.type',
    message: /text\/plain must be first/,
  },
  {
    name: 'text/plain twice',
    change: (b) => (b.content = [text('x'), html('x'), text('y')]),
    field: 'content.2.type',
    message: /may only be provided once/,
  },
  {
    name: 'a reserved header',
    change: (b) => (b.headers = { 'Reply-To': 'x@y.example' }),
    field: 'headers.Reply-To',
    message: /reserved/,
  },
  {
    name: 'a header value that is not a string',
    change: (b) => (b.headers = { 'X-Count': 1 }),
    field: 'headers.X-Count',
    message: /must be strings/,
  },
  {
    name: 'more than 10 categories',
    change: (b) => (b.categories = Array.from({ length: 11 }, (_, i) => `c${i}`)),
    field: 'categories',
    message: /at most 10/,
  },
  {
    name: 'a category that is not ASCII',
    change: (b) => (b.categories = ['séance']),
    field: 'categories.0',
    message: /ASCII string/,
  },
  {
    name: 'a category twice',
    change: (b) => (b.categories = ['a', 'a']),
    field: 'categories.1',
    message: /unique/,
  },
  {
    name: 'a send_at that is not an integer',
    change: (b) => (b.send_at = 1.5),
    field: 'send_at',
    message: /integer/,
  },
  {
    name: 'an ip_pool_name of one character',
    change: (b) => (b.ip_pool_name = 'p'),
    field: 'ip_pool_name',
    message: /2 to 64 characters/,
  },
];

describe('SendGrid v3 mail send body (the double’s validator)', () => {
  it('takes the valid body', () => {
    expect(validateMailSend(mailSendBody())).toEqual([]);
  });

  it.each(refusals)('refuses $name, naming the field', ({ change, field, message }) => {
    const body = mailSendBody();
    change(body);
    expect(validateMailSend(body)).toEqual([
      { field, message: expect.stringMatching(message), help: null },
    ]);
  });

  it('refuses a body that is not an object', () => {
    for (const body of [[], 'x', null])
      expect(validateMailSend(body)).toEqual([{ field: null, message: 'Bad Request', help: null }]);
  });

  it('takes a template in place of subject and content', () => {
    const body = mailSendBody();
    delete body.subject;
    delete body.content;
    body.template_id = 'd-0123456789abcdef0123456789abcdef';
    expect(validateMailSend(body)).toEqual([]);
  });

  it('reports every fault, not the first', () => {
    const body = mailSendBody();
    delete body.from;
    body.categories = ['a', 'a'];
    expect(validateMailSend(body).map((e) => e.field)).toEqual(['from.email', 'categories.1']);
  });
});
