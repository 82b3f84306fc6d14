import type { WindowResult } from '../model/window-result.js';
import type { Bus } from './bus.js';

/**
 * What each channel of the Bus carries. Every node subscribes to each, its own publishes
 * included, so a single node and a cluster run the same code.
 */
export interface BusChannels {
  /** Window results of a project, from the node running its streams: live hubs, caches. */
  windows: { project: string; results: readonly WindowResult[] };
  /** A message for every `/v1/user` socket of one user (in-app notification, marks, counts). */
  user: { project: string; userId: string; message: object };
  /** A stream or rule defined or removed through the API: other nodes reload it. */
  definitions: { project: string; kind: 'stream' | 'rule'; name: string };
  /** An API key made or revoked: every node reads it again from the StateStore. */
  keys: { project: string; id: string };
}

export type BusChannel = keyof BusChannels;

/**
 * Publishes on a channel of the Bus, typed by what the channel carries.
 *
 * @example
 * publishOn(bus, 'user', { project: 'dev', userId: 'u42', message: { t: 'counts', unread: 1, unseen: 1, total: 3 } });
 */
export function publishOn<C extends BusChannel>(bus: Bus, channel: C, message: BusChannels[C]) {
  bus.publish(channel, message);
}

/**
 * Subscribes to a channel of the Bus, typed; returns `off`. Only backline nodes publish on
 * the bus, so a message is what its channel says it is.
 */
export function subscribeTo<C extends BusChannel>(
  bus: Bus,
  channel: C,
  handler: (message: BusChannels[C]) => void,
): () => void {
  return bus.subscribe(channel, handler as (message: unknown) => void);
}
