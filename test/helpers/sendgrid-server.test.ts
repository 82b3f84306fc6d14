import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailSendBody } from './email-fixtures.js';
import { startSendGridServer, type SendGridServer } from './sendgrid-server.js';

let sg: SendGridServer;
beforeAll(async () => {
  sg = await startSendGridServer();
});
afterAll(() => sg.close());

async function post(body: unknown, key = sg.apiKey) {
  const res = await fetch(`${sg.url}/v3/mail/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('SendGrid double', () => {
  it('answers a bad body 400 with field errors even when an error is scripted, keeping the scripted answer for the next valid request', async () => {
    sg.script({ status: 500 });
    const bad = mailSendBody();
    delete bad.from;
    expect(await post(bad)).toEqual({
      status: 400,
      body: { errors: [expect.objectContaining({ field: 'from.email' })] },
    });
    expect((await post(mailSendBody())).status).toBe(500);
    expect((await post(mailSendBody())).status).toBe(202);
    expect(sg.messages.map((m) => m.to)).toEqual(['fan1@example.com']);
  });

  it('refuses a wrong key 401 before looking at the body', async () => {
    const before = sg.messages.length;
    expect(await post({}, 'SG.wrong')).toMatchObject({
      status: 401,
      body: { errors: [expect.objectContaining({ field: null })] },
    });
    expect(sg.messages.length).toBe(before);
  });
});
