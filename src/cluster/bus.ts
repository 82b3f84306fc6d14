/**
 * Messages between the nodes of a deployment: window results for dashboards, in-app
 * notifications and marks for user sockets, definition changes. Fire and forget, like Redis
 * pub/sub: a node that is down misses what was published meanwhile, so nothing that must
 * not be lost travels only on the bus (events go through the event log, state through the
 * StateStore). Single-node mode uses the in-process bus, which delivers synchronously.
 *
 * @example
 * const off = bus.subscribe('windows', (message) => hub.publish(message as WindowsMessage));
 * bus.publish('windows', { project: 'dev', results });
 */
export interface Bus {
  /** Delivers `message` to every subscriber of `channel` on every node, this one included. */
  publish(channel: string, message: unknown): void;
  /** Calls `handler` with each message published on `channel` from now on; returns `off`. */
  subscribe(channel: string, handler: (message: unknown) => void): () => void;
  /**
   * Calls `listener` each time the bus is subscribed again after its connection dropped,
   * with when it dropped (epoch ms): what was published from then on did not reach this
   * node. Absent where nothing can be missed (the in-process bus). Returns `off`.
   */
  onResubscribed?(listener: (droppedAt: number) => void): () => void;
  /**
   * Resolves once every subscription asked for so far holds, so a message published from
   * then on is received: subscribe, await this, then read durable state, and no change falls
   * between the two. Absent where subscriptions hold at once (the in-process bus).
   */
  subscribed?(): Promise<void>;
  close(): Promise<void>;
}
