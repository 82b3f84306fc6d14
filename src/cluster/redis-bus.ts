import type { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import type { Bus } from './bus.js';
import { createBusHandlers, type BusDeps } from './bus-handlers.js';

export interface RedisBusDeps extends BusDeps {
  /** Counts errors of the subscriber connection by `reason` (the socket error code). */
  connectionErrors?: { inc(labels: { reason: string }): void };
}

// Plain maps, not records: every message must decode on its own, on any node.
const packr = new Packr({ useRecords: false });

/**
 * Bus over Redis pub/sub, channels named `<keyPrefix>bus:<channel>` (ioredis prefixes keys,
 * not channels, so the prefix is added here). Publishes go out on the caller's connection;
 * one duplicate connection subscribes, since a subscribed connection can run nothing else.
 * Every node receives its own publishes through Redis, so all nodes see one order per
 * publisher. While Redis is down, publishes are counted lost and dropped (fire and forget,
 * like pub/sub itself); subscriptions are renewed on every (re)connect, after which
 * `onResubscribed` listeners hear when the connection had dropped, so they can make up from
 * durable state for what this node missed. The connection is the caller's: `close` leaves
 * it open.
 *
 * @example
 * const bus = createRedisBus(redis, { log, metrics, connectionErrors: metrics.redisConnectionErrors });
 * bus.subscribe('windows', (message) => hub.publish(message as WindowsMessage));
 */
export function createRedisBus(redis: Redis, deps: RedisBusDeps = {}): Bus {
  const prefix = `${redis.options.keyPrefix ?? ''}bus:`;
  const handlers = createBusHandlers(deps);
  // ioredis's own re-subscribe only renews subscriptions Redis had confirmed; one asked for
  // while Redis was down would be missed, so the bus renews all of its own on 'ready'.
  const subscriber = redis.duplicate({ autoResubscribe: false });
  const lost = (reason: string) => deps.metrics?.busMessagesLost.inc({ reason });
  /** Resolves true once Redis confirmed (nothing to send counts as done), false if it failed. */
  const send = async (command: 'subscribe' | 'unsubscribe', channels: string[]) => {
    if (subscriber.status !== 'ready') return false;
    if (channels.length === 0) return true;
    try {
      await subscriber[command](...channels.map((c) => prefix + c));
      return true;
    } catch (err) {
      // The connection dropped: the next 'ready' subscribes again.
      deps.log?.debug({ err, channels }, `bus ${command} failed`);
      return false;
    }
  };
  const resubscribed = new Set<(droppedAt: number) => void>();
  let droppedAt: number | undefined; // the first drop not yet made up for by a resubscription
  let closed = false;

  subscriber.on('error', (err: NodeJS.ErrnoException) =>
    deps.connectionErrors?.inc({ reason: err.code ?? 'other' }),
  );
  subscriber.on('close', () => (droppedAt ??= Date.now()));
  subscriber.on('ready', () => {
    void send('subscribe', handlers.channels()).then((subscribed) => {
      const since = droppedAt;
      // Told once the subscriptions hold again: a message published later is received.
      if (!subscribed || since === undefined || closed) return;
      droppedAt = undefined;
      for (const listener of resubscribed) listener(since);
    });
  });
  subscriber.on('messageBuffer', (name: Buffer, payload: Buffer) => {
    let message: unknown;
    try {
      message = packr.unpack(payload);
    } catch (err) {
      lost('decode_failed');
      deps.log?.warn({ err, channel: name.toString() }, 'bus message does not decode');
      return;
    }
    handlers.deliver(name.toString().slice(prefix.length), message);
  });

  return {
    publish(channel, message) {
      if (closed) return;
      if (redis.status !== 'ready') return void lost('unavailable');
      let payload: Buffer;
      try {
        payload = packr.pack(message);
      } catch (err) {
        lost('encode_failed');
        deps.log?.error({ err, channel }, 'bus message does not encode');
        return;
      }
      deps.metrics?.busMessages.inc({ direction: 'out' });
      redis.publish(prefix + channel, payload).catch(() => lost('publish_failed'));
    },
    subscribe(channel, handler) {
      if (handlers.add(channel, handler)) void send('subscribe', [channel]);
      let subscribed = true;
      return () => {
        if (subscribed && handlers.remove(channel, handler)) void send('unsubscribe', [channel]);
        subscribed = false;
      };
    },
    async subscribed() {
      // SUBSCRIBE again is harmless; until the connection is ready, wait for it (or its end).
      while (
        !closed &&
        subscriber.status !== 'end' &&
        !(await send('subscribe', handlers.channels()))
      ) {
        await new Promise<void>((resolve) => {
          const done = () => {
            subscriber.off('ready', done).off('end', done);
            resolve();
          };
          subscriber.once('ready', done).once('end', done);
        });
      }
    },
    onResubscribed(listener) {
      resubscribed.add(listener);
      return () => void resubscribed.delete(listener);
    },
    async close() {
      closed = true;
      handlers.clear();
      resubscribed.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
