/**
 * Work that must run on exactly one node at a time (a partition's windows and rules, the
 * persistent timers, the embedded ClickHouse writer), held as expiring leases: the holder
 * renews its lease while it lives; when it dies the lease expires and another node takes it.
 * Single-node mode holds every lease itself.
 *
 * @example
 * leases.hold('timers', { acquired: () => timers.start(), lost: () => timers.stop() });
 */
export interface Leases {
  /**
   * Competes for `name` for as long as this node runs: `acquired` runs when this node gets
   * the lease, `lost` when it no longer holds it (renewal failed or Redis was unreachable
   * past the lease time). Never both at once; `lost` only after `acquired`.
   */
  hold(name: string, handlers: LeaseHandlers, options?: HoldOptions): void;
  /** Whether this node holds `name` now. */
  holds(name: string): boolean;
  /**
   * Hands `name` over: `lost` runs and returns (the work stops and writes what it must),
   * then the lease is deleted if it is still this node's, so another node can take it at
   * once. The node keeps competing for it as `compete` says. Nothing when not held.
   */
  release(name: string): Promise<void>;
  /** Gives every lease up (shutdown), calling `lost` for each held one. */
  close(): Promise<void>;
}

export interface HoldOptions {
  /**
   * Asked before each attempt to take the lease while this node does not hold it: false
   * skips the attempt (the partition balancer keeps a node at its fair share). Default:
   * always compete.
   */
  compete?(): boolean;
}

export interface LeaseHandlers {
  acquired(): void | Promise<void>;
  lost(): void | Promise<void>;
}
