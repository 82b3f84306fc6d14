import { randomUUID } from 'node:crypto';
import webpush from 'web-push';
import type { Logger } from '../../../ops/logger.js';
import type { Metrics } from '../../../ops/metrics.js';
import type { Channel, SendResult } from '../../channel.js';
import { wireNotification, type Notification } from '../../notification.js';
import { OutboundUrlRefused, type OutboundUrlGuard } from './outbound-url.js';
import type { PushSubscriptions, StoredPushSubscription } from './push-subscriptions.js';
import { retryAfterMs } from '../../retry-after.js';
import type { VapidKeys } from './vapid.js';
import { pushOptionsFor, type PushOptions } from './push-options.js';
import { createPushAgents, postPushMessage, type PushAnswer } from './push-request.js';

export const defaultWebPushOptions = {
  ttlSeconds: 86_400, // how long a push service keeps a message for a device that is offline
  timeoutMs: 10_000, // per request to a push service, answer included
  // RFC 8291 §4: one record of at most 4096 bytes, minus its header (86), the AES-GCM tag (16)
  // and the padding delimiter (1).
  maxPayloadBytes: 3993,
  maxRetryAfterMs: 3600_000, // a longer Retry-After is cut to this
};

export type PushResultType = 'push.delivered' | 'push.failed' | 'push.gone' | 'push.retry';

/** One push service answer as an event (StreamEvent-shaped), for the recipient's timeline. */
export interface PushResultEvent {
  id: string;
  type: PushResultType;
  ts: number;
  userId: string;
  props: {
    notificationId: string;
    /** The push service's HTTP status; 0 when it gave none (network error, not sent). */
    status: number;
    endpointHost: string;
    reason: string;
  };
}

export interface WebPushDeps {
  subscriptions: Pick<PushSubscriptions, 'list' | 'remove'>;
  vapid: VapidKeys;
  /** Judges each endpoint before sending, and each address its connection resolves to. */
  endpoints: Pick<OutboundUrlGuard, 'checkUrl' | 'lookup'>;
  metrics?: Pick<Metrics, 'pushEndpointsRefused'>;
  /** Called once per subscription tried; feed it to ingest so push results become events. */
  onResult?: (project: string, userId: string, event: PushResultEvent) => void;
  log?: Logger;
}

type Outcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'gone' | 'failed'; status: number; reason: string }
  | { kind: 'retry'; status: number; reason: string; afterMs: number | undefined };

const eventType = {
  delivered: 'push.delivered',
  gone: 'push.gone',
  failed: 'push.failed',
  retry: 'push.retry',
} as const;

/**
 * The web push channel (RFC 8030 with VAPID, RFC 8292, and aes128gcm payloads, RFC 8291):
 * sends the notification as the in-app JSON `{id, category, title, body, data, ts}` to every
 * subscription of the user. Answers: 2xx delivered; 404/410 the subscription is gone and
 * removed; 413 and other 4xx fail for good; 429 and 5xx retry after their `Retry-After`, as
 * does a network error. An endpoint the outbound URL policy refuses (checked again here, on
 * the address connected to, as DNS may answer otherwise than when it was subscribed) fails
 * with `endpoint_refused`. Delivered if any subscription took it; else retry if any may.
 *
 * @example
 * const push = createWebPushChannel({ subscriptions, vapid, endpoints: createOutboundUrlGuard() });
 * await push.send(notification); // { status: 'delivered', detail: 'subscriptions=1/1' }
 */
export function createWebPushChannel(
  deps: WebPushDeps,
  options: Partial<typeof defaultWebPushOptions> = {},
): Channel {
  const opts = { ...defaultWebPushOptions, ...options };
  const { subscriptions, vapid, endpoints, onResult, log } = deps;
  const agents = createPushAgents(endpoints.lookup);

  /** A refused endpoint fails for good: it stays refused, whoever retries. */
  function refused(err: OutboundUrlRefused): Outcome {
    deps.metrics?.pushEndpointsRefused.inc({ stage: 'send', reason: err.reason });
    return { kind: 'failed', status: 0, reason: `endpoint_refused: ${err.reason}: ${err.message}` };
  }

  function report(n: Notification, subscription: StoredPushSubscription, outcome: Outcome): void {
    if (!onResult) return;
    const event: PushResultEvent = {
      id: randomUUID(),
      type: eventType[outcome.kind],
      ts: Date.now(),
      userId: n.userId,
      props: {
        notificationId: n.id,
        status: outcome.status,
        endpointHost: new URL(subscription.endpoint).host,
        reason: outcome.kind === 'delivered' ? 'ok' : outcome.reason,
      },
    };
    try {
      onResult(n.project, n.userId, event);
    } catch (err) {
      log?.warn({ err, notification: n.id }, 'push result hook failed');
    }
  }

  async function sendTo(
    subscription: StoredPushSubscription,
    payload: string,
    push: PushOptions,
  ): Promise<Outcome> {
    if (expired(subscription)) return { kind: 'gone', status: 0, reason: 'gone: expired' };
    try {
      endpoints.checkUrl(subscription.endpoint);
    } catch (err) {
      if (err instanceof OutboundUrlRefused) return refused(err);
      throw err;
    }
    let details;
    try {
      details = webpush.generateRequestDetails(subscription, payload, {
        ...push,
        contentEncoding: 'aes128gcm',
        vapidDetails: vapid,
      });
    } catch (err) {
      return { kind: 'failed', status: 0, reason: `bad_subscription: ${(err as Error).message}` };
    }
    let answer: PushAnswer;
    try {
      answer = await postPushMessage(details, agents, opts.timeoutMs);
    } catch (err) {
      if (err instanceof OutboundUrlRefused) return refused(err);
      return {
        kind: 'retry',
        status: 0,
        reason: `network: ${(err as Error).message}`,
        afterMs: undefined,
      };
    }
    return classify(answer, details.body?.length ?? 0);
  }

  function classify({ status, headers, text }: PushAnswer, bytes: number): Outcome {
    if (status >= 200 && status < 300) return { kind: 'delivered', status };
    if (status === 404 || status === 410)
      return { kind: 'gone', status, reason: `gone: ${status}` };
    if (status === 413)
      return {
        kind: 'failed',
        status,
        reason: `payload_too_large: the push service refused ${bytes} bytes`,
      };
    if (status === 429 || status >= 500) {
      const afterMs = retryAfterMs(headers['retry-after'], Date.now(), opts.maxRetryAfterMs);
      return { kind: 'retry', status, reason: `http_${status}`, afterMs };
    }
    // 400 (malformed), 401/403 (VAPID refused: a subscription made with another key)…
    const detail = text.trim().slice(0, 200);
    return { kind: 'failed', status, reason: `http_${status}${detail ? `: ${detail}` : ''}` };
  }

  return {
    name: 'web_push',
    async reachable(project, userId) {
      return (await subscriptions.list(project, userId)).some((s) => !expired(s));
    },

    async send(notification): Promise<SendResult> {
      const { project, userId } = notification;
      const targets = await subscriptions.list(project, userId);
      if (targets.length === 0) return { status: 'failed', reason: 'no_subscription' };
      const payload = JSON.stringify(wireNotification(notification));
      const bytes = Buffer.byteLength(payload);
      if (bytes > opts.maxPayloadBytes) {
        const reason =
          `payload_too_large: the notification is ${bytes} bytes as JSON; web push carries at ` +
          `most ${opts.maxPayloadBytes} (shorten its title, body or data)`;
        for (const target of targets)
          report(notification, target, { kind: 'failed', status: 0, reason });
        return { status: 'failed', reason };
      }
      const push = pushOptionsFor(notification, opts.ttlSeconds);
      const outcomes = await Promise.all(
        targets.map(async (target) => {
          const outcome = await sendTo(target, payload, push);
          if (outcome.kind === 'gone') await subscriptions.remove(project, userId, target.endpoint);
          report(notification, target, outcome);
          return outcome;
        }),
      );
      return combine(outcomes);
    },
  };
}

/** The browser said when it would drop the subscription (`PushSubscription.expirationTime`). */
const expired = (s: StoredPushSubscription): boolean =>
  s.expirationTime !== null && s.expirationTime <= Date.now();

function combine(outcomes: Outcome[]): SendResult {
  const delivered = outcomes.filter((o) => o.kind === 'delivered').length;
  if (delivered > 0)
    return { status: 'delivered', detail: `subscriptions=${delivered}/${outcomes.length}` };
  const retries = outcomes.filter((o) => o.kind === 'retry');
  if (retries.length > 0) {
    const waits = retries.flatMap((o) => (o.afterMs === undefined ? [] : [o.afterMs]));
    return {
      status: 'retry',
      reason: [...new Set(retries.map((o) => o.reason))].join('; '),
      afterMs: waits.length > 0 ? Math.max(...waits) : undefined,
    };
  }
  const reasons = outcomes.flatMap((o) => (o.kind === 'delivered' ? [] : [o.reason]));
  return { status: 'failed', reason: [...new Set(reasons)].join('; ') };
}
