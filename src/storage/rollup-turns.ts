import { createSerialQueue } from '../lib/serial-queue.js';

/**
 * What the rollup store and the roller of one process share: the work on one table (its DDL,
 * a roll) one piece at a time, and the marker this process last gave each table, so a round
 * that read an older marker (another round's roll landed first, or the table was dropped and
 * made again) rolls nothing into it. Rollers of different nodes never meet: one holds the
 * `rollups` lease.
 */
export interface RollupTurns {
  /** Runs `work` after every earlier piece of work on `table`. */
  take<T>(table: string, work: () => Promise<T>): Promise<T>;
  /** `upto` of each table's marker as this process last wrote or read it. */
  readonly marks: Map<string, number>;
}

/** @example const turns = createRollupTurns(); createRollupStore(ch, turns); createRollupRoller({ ch, turns, … }); */
export function createRollupTurns(): RollupTurns {
  const queue = createSerialQueue();
  return { take: (table, work) => queue.push(table, work), marks: new Map() };
}
