import type { Logger } from '../../../ops/logger.js';
import type { EmailMessage, EmailProvider, ProviderResult } from './providers.js';

export const defaultFailoverOptions = {
  failuresToOpen: 3, // batches in a row the primary answered only with retry → use the secondary
  coolDownMs: 30_000, // then, after this long, one batch probes the primary again
};

export type FailoverRoute = 'primary' | 'secondary';

/**
 * Two providers behind one, with a circuit breaker: after `failuresToOpen` consecutive
 * batches for which the primary answered nothing but `retry` (an outage: 5xx, 429, network),
 * batches go to the secondary, including the one that tripped it; after `coolDownMs` one
 * batch probes the primary (the others keep going to the secondary) and its success
 * switches back. Each result's detail names the provider that sent it. A batch the primary
 * refused for good (`failed`) proves it is up and does not count.
 *
 * @example
 * const email = createFailover({ primary: sendgrid, secondary: smtp, log });
 * await email.send(messages); // SendGrid, or SMTP while SendGrid is down
 */
export function createFailover(
  deps: {
    primary: EmailProvider;
    secondary: EmailProvider;
    log?: Logger;
    /** Told of every switch, e.g. to count it in /metrics. */
    onSwitch?: (to: FailoverRoute, reason: string) => void;
  },
  options: Partial<typeof defaultFailoverOptions> = {},
  now = Date.now,
): EmailProvider & { route(): FailoverRoute } {
  const { primary, secondary, log } = deps;
  const opts = { ...defaultFailoverOptions, ...options };
  let failures = 0;
  let openUntil: number | undefined;
  let probing = false;

  const switchTo = (to: FailoverRoute, reason: string) => {
    log?.warn({ to: to === 'primary' ? primary.name : secondary.name, reason }, 'email failover');
    deps.onSwitch?.(to, reason);
  };

  async function viaPrimary(messages: readonly EmailMessage[]): Promise<ProviderResult[]> {
    const results = await primary.send(messages);
    const down = results.length > 0 && results.every((r) => r.status === 'retry');
    if (!down) {
      failures = 0;
      if (openUntil !== undefined) switchTo('primary', `${primary.name} answered again`);
      openUntil = undefined;
      return results;
    }
    failures += 1;
    if (openUntil === undefined && failures < opts.failuresToOpen) return results;
    const first = results[0]!;
    if (openUntil === undefined)
      switchTo('secondary', `${failures} failed batches: ${'reason' in first ? first.reason : ''}`);
    openUntil = now() + opts.coolDownMs;
    return secondary.send(messages);
  }

  return {
    name: `${primary.name}|${secondary.name}`,
    route: () => (openUntil === undefined ? 'primary' : 'secondary'),
    async send(messages) {
      if (openUntil === undefined) return viaPrimary(messages);
      if (probing || now() < openUntil) return secondary.send(messages);
      probing = true;
      try {
        return await viaPrimary(messages);
      } finally {
        probing = false;
      }
    },
    async close() {
      await Promise.all([primary.close?.(), secondary.close?.()]);
    },
  };
}
