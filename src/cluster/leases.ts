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
  hold(name: string, handlers: LeaseHandlers): void;
  /** Whether this node holds `name` now. */
  holds(name: string): boolean;
  /** Gives every lease up (shutdown), calling `lost` for each held one. */
  close(): Promise<void>;
}

export interface LeaseHandlers {
  acquired(): void | Promise<void>;
  lost(): void | Promise<void>;
}
