import { createHash } from 'node:crypto';
import type { Urgency } from 'web-push';
import type { Notification, Priority } from '../../notification.js';

/** RFC 8030 §5.2: how soon the device should be woken for it. */
const urgencyOf: Record<Priority, Urgency> = {
  critical: 'high',
  high: 'high',
  normal: 'normal',
  low: 'low',
};
const urgencies: readonly string[] = ['very-low', 'low', 'normal', 'high'];

/** Four weeks: what push services keep at most. */
export const maxTtlSeconds = 2_419_200;

export interface PushOptions {
  /** Seconds the push service keeps the message for a device that is offline. */
  TTL: number;
  urgency: Urgency;
  /** Replaces a not yet delivered message with the same topic (RFC 8030 §5.4). */
  topic: string | undefined;
}

/**
 * The RFC 8030 options of one notification: `data.push.{ttl, urgency, topic}` when a rule
 * sets them (a value that does not fit falls back to the default rather than losing the
 * notification), else `ttlSeconds`, the urgency of the priority, and a topic from the
 * `dedupKey` — so a retry after an answer that was lost in transit replaces the copy the
 * push service already holds instead of showing twice.
 */
export function pushOptionsFor(notification: Notification, ttlSeconds: number): PushOptions {
  const requested = notification.data.push;
  const asked = (typeof requested === 'object' && requested !== null ? requested : {}) as Record<
    string,
    unknown
  >;
  const ttl = typeof asked.ttl === 'string' && asked.ttl !== '' ? Number(asked.ttl) : asked.ttl;
  const urgency = asked.urgency;
  const topicSource = typeof asked.topic === 'string' ? asked.topic : notification.dedupKey;
  return {
    TTL:
      typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 && ttl <= maxTtlSeconds
        ? ttl
        : ttlSeconds,
    urgency:
      typeof urgency === 'string' && urgencies.includes(urgency)
        ? (urgency as Urgency)
        : urgencyOf[notification.priority],
    topic: topicSource ? pushTopic(topicSource) : undefined,
  };
}

/**
 * A topic is at most 32 characters of the base64url alphabet. A key that already is one is
 * kept, so it can be read in the push service's logs; any other is hashed, because cutting
 * or replacing characters could give two keys one topic, and one would replace the other.
 */
export function pushTopic(key: string): string {
  if (/^[A-Za-z0-9_-]{1,32}$/.test(key)) return key;
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}
