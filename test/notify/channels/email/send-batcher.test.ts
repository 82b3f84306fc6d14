import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSendBatcher } from '../../../../src/notify/channels/email/send-batcher.js';
import { createSendGridProvider } from '../../../../src/notify/channels/email/sendgrid-provider.js';
import { emailMessage } from '../../../helpers/email-fixtures.js';
import { startSendGridServer, type SendGridServer } from '../../../helpers/sendgrid-server.js';

let sg: SendGridServer;
beforeAll(async () => {
  sg = await startSendGridServer();
});
afterAll(() => sg.close());
afterEach(() => vi.useRealTimers());

describe('send batcher', () => {
  it('turns 2,500 concurrent one-message sends into requests of at most 1,000', async () => {
    const batched = createSendBatcher(
      createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url }),
    );
    const before = sg.requests.length;
    const results = await Promise.all(
      Array.from({ length: 2500 }, (_, i) => batched.send([emailMessage(i)])),
    );
    expect(results.flat().every((r) => r.status === 'delivered')).toBe(true);
    const sizes = sg.requests.slice(before).map((r) => (r.personalizations as unknown[]).length);
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it('sends a lone message without waiting for company', async () => {
    // With the clock stopped, a message held for a timer would never go: it must go on the
    // next turn of the event loop, with no timer set for it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'Date'] });
    const batched = createSendBatcher(
      createSendGridProvider({ apiKey: sg.apiKey }, { baseUrl: sg.url }),
    );
    const before = sg.requests.length;
    const sending = batched.send([emailMessage(1)]);
    expect(vi.getTimerCount()).toBe(0);
    expect(await sending).toMatchObject([{ status: 'delivered' }]);
    expect(sg.requests.length - before).toBe(1);
  });
});
