import type { Redis } from 'ioredis';
import { Packr, type Options } from 'msgpackr';
import type { EventRow } from '../model/event.js';

/**
 * One entry of the event log (`log:<p>`): one accepted frame of one project. Fields: `p` the
 * project, `r` the MessagePack of `[rows, props]` (every row of the frame, duplicates too, so
 * the append script never re-encodes), `d` the indices of duplicate rows joined by commas
 * (absent when none). Readers get the rows that were new.
 */
export interface LogEntry {
  /** The stream entry id (`<ms>-<seq>`). */
  id: string;
  project: string;
  rows: EventRow[];
  /** The decoded props of each row, in the order of `rows`. */
  props: Array<Record<string, unknown>>;
  /** Indices, in the frame, of the rows left out as duplicates. */
  duplicates: number[];
}

// Records with definitions inside each entry: any node decodes any entry on its own. `auto`
// keeps int64 props exact, as ingest decoded them (see ingest/decode-frame.ts).
const packr = new Packr({ int64AsType: 'auto' as string as Options['int64AsType'] });

/** The `r` field of a frame's entry. */
export function encodeRows(rows: readonly EventRow[], props: readonly object[]): Buffer {
  return packr.pack([rows, props]);
}

/**
 * An entry as XREADGROUP / XAUTOCLAIM return it (`[f1, v1, f2, v2…]`), without its
 * duplicate rows. Throws when the entry is not one the event log wrote.
 */
export function decodeEntry(id: string, fields: readonly Buffer[]): LogEntry {
  const field = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) field.set(fields[i]!.toString(), fields[i + 1]!);
  const project = field.get('p')?.toString();
  const blob = field.get('r');
  if (!project || !blob) throw new Error(`log entry ${id} lacks its project or rows`);
  const decoded: unknown = packr.unpack(blob);
  if (!Array.isArray(decoded) || !Array.isArray(decoded[0]) || !Array.isArray(decoded[1]))
    throw new Error(`log entry ${id} does not hold [rows, props]`);
  const [allRows, allProps] = decoded as [EventRow[], Array<Record<string, unknown>>];
  const d = field.get('d')?.toString();
  const duplicates = d ? d.split(',').map(Number) : [];
  if (duplicates.length === 0) return { id, project, rows: allRows, props: allProps, duplicates };
  const skip = new Set(duplicates);
  const rows: EventRow[] = [];
  const props: Array<Record<string, unknown>> = [];
  allRows.forEach((row, i) => {
    if (skip.has(i)) return;
    rows.push(row);
    props.push(allProps[i] ?? {});
  });
  return { id, project, rows, props, duplicates };
}

/** One entry of a stream reply; `fields` is null for an entry deleted while pending. */
export interface RawEntry {
  /** The full key as Redis names it (with the key prefix). */
  key: string;
  id: string;
  fields: Buffer[] | null;
}

type Entries = Array<[Buffer, Buffer[] | null]>;

/**
 * The entries of an XREAD / XREADGROUP reply, in reply order. ioredis hands these over as
 * `[[key, entries]…]` (RESP2, or RESP3 mapped) or as the flat map `[key, entries, key…]`
 * (RESP3 through `call`); both are read.
 */
export function streamEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const pairs: Array<[Buffer, Entries]> = Array.isArray(reply[0])
    ? (reply as Array<[Buffer, Entries]>)
    : Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i], reply[2 * i + 1]]);
  return pairs.flatMap(([key, entries]) => entriesOf(key.toString(), entries));
}

/** The entries of one stream (an XAUTOCLAIM reply's second element, or one XREAD stream). */
export function entriesOf(key: string, entries: Entries): RawEntry[] {
  return entries.map(([id, fields]) => ({ key, id: id.toString(), fields }));
}

/** The partition a log key (`[prefix]log:<p>`) names. */
export function partitionOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf(':') + 1));
}

/** The stream key of a partition, without the key prefix (ioredis adds it). */
export const logKey = (partition: number) => `log:${partition}`;

/** The smallest id after `id`: what `retainFrom` returns for "keep everything after this". */
export function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${Number(seq) + 1}`;
}

/**
 * The entries of one partition's log after `afterId` ('0': from the first), oldest first, as
 * the partition owner reads them from its cursor (XREAD, no group). With `blockMs`, waits that
 * long for one when there is none (under the connection's commandTimeoutMs): give it a
 * connection of its own, BLOCK holds it. Decode each with `decodeEntry`.
 */
export async function readLog(
  redis: Redis,
  partition: number,
  afterId: string,
  options: { count: number; blockMs?: number },
): Promise<RawEntry[]> {
  const block = options.blockMs === undefined ? [] : ['BLOCK', options.blockMs];
  const reply = await redis.callBuffer(
    ...['XREAD', 'COUNT', options.count, ...block],
    ...['STREAMS', logKey(partition), afterId],
  );
  return streamEntries(reply);
}
