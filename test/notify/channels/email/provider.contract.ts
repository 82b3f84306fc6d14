import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailProvider } from '../../../../src/notify/channels/email/providers.js';
import { emailMessage } from '../../../helpers/email-fixtures.js';

/** What a contract run needs of one provider and the loopback service behind it. */
export interface ProviderHarness {
  provider: EmailProvider;
  /** Provider pointed at a port where nothing listens. */
  unreachable: EmailProvider;
  /** The recipient and notification id of every message the service took, in order. */
  received(): Array<{ to: string; notificationId: string; subject: string }>;
  /** Makes the service refuse the next message for good (a 400, a 550). */
  refuseNext(): void;
  close(): Promise<void>;
}

/**
 * The behaviour every EmailProvider shares, run against each implementation and its real
 * loopback service (as Hono's `common.case.test.ts` does for routers).
 */
export function describeEmailProvider(name: string, start: () => Promise<ProviderHarness>) {
  describe(`EmailProvider contract: ${name}`, () => {
    let h: ProviderHarness;
    beforeAll(async () => {
      h = await start();
    });
    afterAll(() => h.close());

    it('delivers each message, one result per message in order, naming itself', async () => {
      const before = h.received().length;
      const messages = [1, 2, 3].map((i) => emailMessage(i, { subject: `Show ${i}` }));
      const results = await h.provider.send(messages);
      expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
      for (const r of results) expect(r.status === 'delivered' && r.detail).toMatch(name);
      const got = h.received().slice(before);
      expect(got.map((m) => [m.to, m.notificationId, m.subject]).sort()).toEqual([
        ['fan1@example.com', 'n-1', 'Show 1'],
        ['fan2@example.com', 'n-2', 'Show 2'],
        ['fan3@example.com', 'n-3', 'Show 3'],
      ]);
    });

    it('answers failed when the service refuses the message for good', async () => {
      h.refuseNext();
      const [result] = await h.provider.send([emailMessage(4)]);
      expect(result?.status).toBe('failed');
    });

    it('answers retry, not an exception, when the service cannot be reached', async () => {
      const results = await h.unreachable.send([emailMessage(5), emailMessage(6)]);
      expect(results.map((r) => r.status)).toEqual(['retry', 'retry']);
    });
  });
}
