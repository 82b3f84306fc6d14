import { backoffMs } from '../lib/backoff.js';
import type { Logger } from '../ops/logger.js';
import type { Timers } from '../state/timers.js';
import type { Channel } from './channel.js';
import type { DecisionLog } from './decision-log.js';
import type { ChannelName, Notification } from './notification.js';

export const defaultDeliveryOptions = {
  maxAttempts: 5, // then the notification is recorded as a dead letter
  retryBaseMs: 1000, // first retry delay; doubles per attempt, capped, with jitter
  retryMaxMs: 5 * 60_000,
};

interface RetryPayload {
  channel: ChannelName;
  attempt: number;
  notification: Notification;
}

/**
 * Sends through a channel and records the outcome. A retryable failure is retried with
 * exponential backoff and jitter (at least the channel's `afterMs`, e.g. Retry-After),
 * through persistent timers so a restart does not lose it; after `maxAttempts` the
 * notification is recorded as a dead letter.
 */
export function createDelivery(
  deps: {
    channels: ReadonlyMap<ChannelName, Channel>;
    timers: Timers;
    decisions: DecisionLog;
    log: Logger;
  },
  options: Partial<typeof defaultDeliveryOptions> = {},
) {
  const opts = { ...defaultDeliveryOptions, ...options };
  const { channels, timers, decisions, log } = deps;

  async function attempt(
    channelName: ChannelName,
    notification: Notification,
    n: number,
  ): Promise<void> {
    const channel = channels.get(channelName);
    if (!channel) {
      decisions.record(notification, 'failed', 'channel_not_configured', channelName, n);
      return;
    }
    let result;
    try {
      result = await channel.send(notification);
    } catch (err) {
      log.warn({ err, channel: channelName, notification: notification.id }, 'channel threw');
      result = { status: 'retry' as const, reason: `error: ${(err as Error).message}` };
    }
    if (result.status === 'delivered') {
      decisions.record(notification, 'delivered', result.detail ?? 'ok', channelName, n);
    } else if (result.status === 'failed') {
      decisions.record(notification, 'failed', result.reason, channelName, n);
    } else if (n >= opts.maxAttempts) {
      decisions.record(
        notification,
        'dead_letter',
        `${result.reason} after ${n} attempts`,
        channelName,
        n,
      );
    } else {
      const delay = Math.max(result.afterMs ?? 0, backoffMs(n, opts.retryBaseMs, opts.retryMaxMs));
      decisions.record(
        notification,
        'retrying',
        `${result.reason}; next attempt in ${delay} ms`,
        channelName,
        n,
      );
      const payload: RetryPayload = { channel: channelName, attempt: n + 1, notification };
      await timers.schedule(
        'delivery-retry',
        Date.now() + delay,
        payload,
        `${notification.id}-${channelName}-${n + 1}`,
      );
    }
  }

  timers.on('delivery-retry', async (timer) => {
    const { channel, attempt: n, notification } = timer.payload as RetryPayload;
    await attempt(channel, notification, n);
  });

  return {
    send: (channel: ChannelName, notification: Notification) => attempt(channel, notification, 1),
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
