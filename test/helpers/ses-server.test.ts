import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSesServer, validateSendEmail, type SesServer } from './ses-server.js';

/** The double refuses what SES refuses: tested, so a lenient double cannot hide a bug. */
describe('SES v2 double', () => {
  let ses: SesServer;
  beforeAll(async () => {
    ses = await startSesServer();
  });
  afterAll(() => ses.close());

  const client = (overrides: { secret?: string; region?: string; at?: Date } = {}) =>
    new SESv2Client({
      region: overrides.region ?? ses.region,
      endpoint: ses.url,
      credentials: {
        accessKeyId: ses.accessKeyId,
        secretAccessKey: overrides.secret ?? ses.secretAccessKey,
      },
      maxAttempts: 1,
      ...(overrides.at ? { systemClockOffset: overrides.at.getTime() - Date.now() } : {}),
    });
  const valid = {
    FromEmailAddress: 'shows@backline.example',
    Destination: { ToAddresses: ['fan@example.com'] },
    Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Hello' } } } },
  };
  const send = async (c: SESv2Client, input: object = valid) => {
    try {
      await c.send(new SendEmailCommand(input as never));
      return 'sent';
    } catch (err) {
      return (err as Error).name;
    }
  };

  it('accepts a request the SDK signed, and refuses a wrong secret, region or an old date', async () => {
    expect(await send(client())).toBe('sent');
    expect(await send(client({ secret: 'wrong' }))).toBe('SignatureDoesNotMatch');
    expect(await send(client({ region: 'us-east-1' }))).toBe('SignatureDoesNotMatch');
    expect(await send(client({ at: new Date(Date.now() - 20 * 60_000) }))).toBe(
      'InvalidSignatureException',
    );
  });

  it('refuses a body tampered with after signing', async () => {
    const c = client();
    c.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string };
        request.body = request.body.replace('Hello', 'Hallo');
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    expect(await send(c)).toBe('SignatureDoesNotMatch');
    expect(ses.messages.every((m) => m.text !== 'Hallo')).toBe(true);
  });

  it('checks the body against the API: addresses, content, headers and tags', () => {
    const bad: Array<[string, object]> = [
      ['FromEmailAddress', { ...valid, FromEmailAddress: 'nobody' }],
      ['Destination', { ...valid, Destination: { ToAddresses: [] } }],
      ['Destination.ToAddresses.0', { ...valid, Destination: { ToAddresses: ['a@b'] } }],
      ['Content', { ...valid, Content: {} }],
      ['Body', { ...valid, Content: { Simple: { Subject: { Data: 'x' }, Body: {} } } }],
      [
        'Headers.0.Name',
        {
          ...valid,
          Content: { Simple: { ...valid.Content.Simple, Headers: [{ Name: 'From', Value: 'x' }] } },
        },
      ],
      [
        'Headers.0.Value',
        {
          ...valid,
          Content: {
            Simple: { ...valid.Content.Simple, Headers: [{ Name: 'X-A', Value: 'a\r\nBcc: x' }] },
          },
        },
      ],
      ['EmailTags.0.Value', { ...valid, EmailTags: [{ Name: 'user', Value: 'u/1' }] }],
    ];
    expect(validateSendEmail(valid)).toBeUndefined();
    for (const [field, body] of bad) expect(validateSendEmail(body), field).toContain(field);
  });
});
