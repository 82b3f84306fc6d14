import type { EmailMessage, EmailProvider, ProviderResult } from './providers.js';

export const defaultBatchOptions = {
  maxMessages: 1000, // per provider call (SendGrid's personalization limit)
  lingerMs: 0, // wait this long for more; 0 batches what arrives before the next macrotask
};

interface Pending {
  message: EmailMessage;
  resolve: (result: ProviderResult) => void;
}

/**
 * Gathers messages sent at about the same time into one provider call, so a rule that
 * notifies thousands of users at once (a campaign) becomes requests of up to 1,000
 * personalizations; a lone message waits one macrotask (or `lingerMs`).
 *
 * @example
 * const batched = createSendBatcher(sendgrid);
 * await Promise.all(messages.map((m) => batched.send([m]))); // one request per 1,000
 */
export function createSendBatcher(
  provider: EmailProvider,
  options: Partial<typeof defaultBatchOptions> = {},
): EmailProvider {
  const opts = { ...defaultBatchOptions, ...options };
  let queue: Pending[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.slice(0, opts.maxMessages);
      queue = queue.slice(opts.maxMessages);
      provider.send(batch.map((p) => p.message)).then(
        (results) => batch.forEach((p, i) => p.resolve(results[i] ?? missing)),
        (err: unknown) =>
          batch.forEach((p) =>
            p.resolve({ status: 'retry', reason: `${provider.name}: ${String(err)}` }),
          ),
      );
    }
  }

  function schedule(): void {
    if (queue.length >= opts.maxMessages) return flush();
    if (scheduled) return;
    scheduled = true;
    if (opts.lingerMs > 0) setTimeout(flush, opts.lingerMs);
    else setImmediate(flush);
  }

  return {
    name: provider.name,
    send(messages) {
      const results = messages.map(
        (message) => new Promise<ProviderResult>((resolve) => queue.push({ message, resolve })),
      );
      schedule();
      return Promise.all(results);
    },
    close: provider.close ? () => provider.close!() : undefined,
  };
}

const missing: ProviderResult = { status: 'retry', reason: 'provider gave no result' };
