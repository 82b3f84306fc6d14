import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSesProvider,
  decodeTag,
  sesTags,
} from '../../../../src/notify/channels/email/ses-provider.js';
import { emailMessage } from '../../../helpers/email-fixtures.js';
import { freePort } from '../../../helpers/free-port.js';
import { startSesServer, type SesServer } from '../../../helpers/ses-server.js';
import { describeEmailProvider } from './provider.contract.js';

const providerFor = (
  ses: SesServer,
  settings: { endpoint?: string; configurationSet?: string } = {},
) =>
  createSesProvider({
    region: ses.region,
    endpoint: ses.url,
    accessKeyId: ses.accessKeyId,
    secretAccessKey: ses.secretAccessKey,
    ...settings,
  });

describeEmailProvider('ses', async () => {
  const ses = await startSesServer();
  return {
    provider: providerFor(ses),
    unreachable: providerFor(ses, { endpoint: `http://127.0.0.1:${await freePort()}` }),
    received: () =>
      ses.messages.map((m) => ({
        to: m.to,
        notificationId: decodeTag(m.tags[sesTags.notification]!),
        subject: m.subject,
      })),
    refuseNext: () => ses.script({ status: 400, error: 'MessageRejected' }),
    close: () => ses.close(),
  };
});

describe('SES provider', () => {
  let ses: SesServer;
  beforeAll(async () => {
    ses = await startSesServer();
  });
  afterAll(() => ses.close());

  it('sends a signed SendEmail per message with its headers, tags and configuration set', async () => {
    const provider = providerFor(ses, { configurationSet: 'backline-events' });
    const message = emailMessage(1, {
      userId: 'fan/1 é',
      headers: {
        'List-Unsubscribe': '<https://m.example/u/1>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
    const [result] = await provider.send([message]);
    expect(result).toMatchObject({ status: 'delivered', detail: /^ses 0102/ });
    const got = ses.messages.at(-1)!;
    expect(got).toMatchObject({
      to: 'fan1@example.com',
      from: '"Backline Shows" <shows@backline.example>',
      replyTo: ['help@backline.example'],
      subject: 'A new show',
      html: '<p>A new show</p>',
      text: 'A new show',
      configurationSet: 'backline-events',
    });
    expect(got.headers).toEqual({
      'List-Unsubscribe': '<https://m.example/u/1>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'X-Backline-Notification': 'n-1',
    });
    expect(Object.fromEntries(Object.entries(got.tags).map(([k, v]) => [k, decodeTag(v)]))).toEqual(
      {
        [sesTags.notification]: 'n-1',
        [sesTags.project]: 'p1',
        [sesTags.user]: 'fan/1 é',
        [sesTags.template]: 'show-announced',
      },
    );
    await provider.close?.();
  });

  it('retries throttling and 5xx (with Retry-After) and a paused account; fails a rejected message', async () => {
    const provider = providerFor(ses);
    ses.script(
      { status: 429, retryAfterS: 7 },
      { status: 500 },
      { status: 400, error: 'SendingPausedException' },
      { status: 400, error: 'MessageRejected' },
    );
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await provider.send([emailMessage(10 + i)]))[0]!);
    expect(results[0]).toMatchObject({
      status: 'retry',
      afterMs: 7000,
      reason: /429 TooManyRequestsException/,
    });
    expect(results[1]).toMatchObject({ status: 'retry', reason: /^ses 500/ });
    expect(results[2]).toMatchObject({ status: 'retry', reason: /SendingPausedException/ });
    expect(results[3]).toMatchObject({ status: 'failed', reason: /400 MessageRejected/ });
    await provider.close?.();
  });

  it('retries when SES refuses the credentials (403), naming why', async () => {
    const provider = createSesProvider({
      region: ses.region,
      endpoint: ses.url,
      accessKeyId: ses.accessKeyId,
      secretAccessKey: 'not-the-secret',
    });
    const [result] = await provider.send([emailMessage(20)]);
    expect(result).toMatchObject({ status: 'retry', reason: /403 SignatureDoesNotMatch/ });
    await provider.close?.();
  });
});
