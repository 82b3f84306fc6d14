import type { Redis } from 'ioredis';
import {
  entriesOf,
  logKey,
  partitionOfKey,
  streamEntries,
  type RawEntry,
} from '../cluster/log-entry.js';
import { forgetConsumersScript, touchScript, trimScript } from '../cluster/log-scripts.js';
import { runScript } from '../cluster/redis-script.js';

/** One entry of one partition's log as the group handed it out; `fields` null when deleted. */
export interface GroupEntry {
  partition: number;
  id: string;
  fields: Buffer[] | null;
}

export interface LogGroupOptions {
  partitions: number;
  group: string;
  consumer: string;
}

const toGroupEntry = ({ key, id, fields }: RawEntry): GroupEntry => ({
  partition: partitionOfKey(key),
  id,
  fields,
});

/**
 * One consumer of a consumer group over every partition's log: the Redis commands the storage
 * consumer runs, with replies turned into entries. Blocking reads go on `reader`, a connection
 * of their own, so a BLOCK never holds up acks, claims or trims on `redis`.
 */
export function createLogGroup(redis: Redis, reader: Redis, opts: LogGroupOptions) {
  const { group, consumer } = opts;
  const keys = Array.from({ length: opts.partitions }, (_, p) => logKey(p));
  const byPartition = <T extends { partition: number }>(items: readonly T[]) => {
    const groups = new Map<number, T[]>();
    for (const item of items)
      groups.set(item.partition, [...(groups.get(item.partition) ?? []), item]);
    return groups;
  };

  return {
    /** Creates the group on every log (and the log itself), reading from its first entry. */
    async ensure(): Promise<void> {
      for (const key of keys) {
        try {
          await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
        } catch (err) {
          if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err;
        }
      }
    },

    /** Entries no consumer of the group has read yet; waits up to `blockMs` for some. */
    async readNew(count: number, blockMs: number): Promise<GroupEntry[]> {
      const reply = await reader.callBuffer(
        ...['XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs],
        ...['STREAMS', ...keys, ...keys.map(() => '>')],
      );
      return streamEntries(reply).map(toGroupEntry);
    },

    /** This consumer's own pending entries after `after` (per partition; '0' from the start). */
    async readOwnPending(after: readonly string[], count: number): Promise<GroupEntry[]> {
      const reply = await redis.callBuffer(
        ...['XREADGROUP', 'GROUP', group, consumer, 'COUNT', count],
        ...['STREAMS', ...keys, ...after],
      );
      return streamEntries(reply).map(toGroupEntry);
    },

    /**
     * Claims entries of one partition pending longer than `minIdleMs` with any consumer
     * (XAUTOCLAIM), from `cursor`. Answers the next cursor ('0-0' when the scan is done), the
     * entries and the ids of claimed entries the log no longer holds.
     */
    async claim(partition: number, minIdleMs: number, cursor: string, count: number) {
      const reply = (await redis.callBuffer(
        ...['XAUTOCLAIM', keys[partition]!, group, consumer, minIdleMs, cursor, 'COUNT', count],
      )) as [Buffer, Array<[Buffer, Buffer[] | null]>, Buffer[]?];
      const entries = entriesOf(keys[partition]!, reply[1]).map((raw) => ({
        ...raw,
        partition,
      }));
      const deleted = (reply[2] ?? []).map(String);
      return { next: reply[0].toString(), entries, deleted };
    },

    async ack(entries: readonly Pick<GroupEntry, 'partition' | 'id'>[]): Promise<void> {
      if (entries.length === 0) return;
      const pipeline = redis.pipeline();
      for (const [partition, items] of byPartition(entries))
        pipeline.xack(keys[partition]!, group, ...items.map((entry) => entry.id));
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
    },

    /** Of `entries`, those still pending with this consumer, with their idle time reset. */
    async touch(entries: readonly GroupEntry[]): Promise<GroupEntry[]> {
      const kept: GroupEntry[] = [];
      for (const [partition, items] of byPartition(entries)) {
        const ids = items.map((entry) => entry.id);
        const mine = (await runScript(
          redis,
          touchScript,
          [keys[partition]!],
          [group, consumer, ...ids],
        )) as Buffer[];
        const still = new Set(mine.map(String));
        kept.push(...items.filter((entry) => still.has(entry.id)));
      }
      return kept;
    },

    /** Trims one partition's log below what the group and `retainFrom` still need. */
    async trim(partition: number, retainFrom: string | undefined) {
      const [trimmed, pending, lag] = (await runScript(
        redis,
        trimScript,
        [keys[partition]!],
        [group, retainFrom ?? ''],
      )) as [number, number, number];
      return { trimmed, pending, lag };
    },

    /** Drops consumers with nothing pending that have not read for `idleMs` (nodes gone). */
    async forgetIdleConsumers(partition: number, idleMs: number): Promise<number> {
      const args = [group, consumer, idleMs];
      return (await runScript(redis, forgetConsumersScript, [keys[partition]!], args)) as number;
    },
  };
}

export type LogGroup = ReturnType<typeof createLogGroup>;
