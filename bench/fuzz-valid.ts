import { Packr } from 'msgpackr';
import type { Random } from './fuzz-random.js';

/**
 * The valid events one fuzz worker sends between the hostile inputs: type `fuzz.valid`, ids
 * `v-<run>-w<worker>-<n>`, user `fuzz-valid-<run>-w<worker>`, in batches of 1–10. Some
 * batches are sent again once acknowledged, to check de-duplication. A batch refused or left
 * without an answer when its socket closed is queued and sent again until acknowledged.
 */
export interface ValidBatch {
  seq: number;
  /** `n` of each event id. */
  ns: number[];
  /** Sent again after an ack: each event must count as a duplicate. */
  resend: boolean;
  /** Lost with a socket or a connection once: it may or may not have been stored. */
  uncertain: boolean;
}

export interface ValidReport {
  worker: number;
  userId: string;
  /** Ids made, `n` from 0 to `made − 1`. */
  made: number;
  /** Ids whose batch was acknowledged (accepted or duplicate). */
  acked: number[];
  batchesSent: number;
  resends: number;
  retries: number;
  acceptedEvents: number;
  duplicateEvents: number;
  /** Acks that do not add up: fresh events counted as duplicates, resent ones accepted … */
  mismatches: string[];
  /** Batches never acknowledged by the end (refused to the last, or stranded). */
  unacked: number;
  /** Why valid batches were refused whole (each then sent again). */
  refusedCodes: Record<string, number>;
}

// Valid batches' seqs start here; hostile frames use small ones, so an answer names its frame.
export const validSeqBase = 2 ** 40;
const packr = new Packr();

export function createValidEvents(runId: string, worker: number, random: Random) {
  const userId = `fuzz-valid-${runId}-w${worker}`;
  const inFlight = new Map<number, ValidBatch>();
  const waiting: ValidBatch[] = [];
  const ackedBatches: ValidBatch[] = [];
  const acked = new Set<number>();
  const report: ValidReport = {
    ...{ worker, userId, made: 0, acked: [], batchesSent: 0, resends: 0, retries: 0 },
    ...{ acceptedEvents: 0, duplicateEvents: 0, mismatches: [], unacked: 0, refusedCodes: {} },
  };
  let seq = validSeqBase;

  const events = (batch: ValidBatch) =>
    batch.ns.map((n) => ({
      id: `v-${runId}-w${worker}-${n}`,
      type: 'fuzz.valid',
      ts: Date.now(),
      userId,
      props: { n, g: n % 10, ...(n % 1000 === 0 ? { notify: 1 } : {}) },
    }));

  const take = (): ValidBatch => {
    const retry = waiting.shift();
    if (retry) {
      report.retries += 1;
      return { ...retry, seq: seq++ };
    }
    if (ackedBatches.length > 0 && random.chance(0.1)) {
      report.resends += 1;
      const again = random.pick(ackedBatches);
      return { seq: seq++, ns: again.ns, resend: true, uncertain: false };
    }
    const ns = Array.from({ length: 1 + random.int(10) }, () => report.made++);
    return { seq: seq++, ns, resend: false, uncertain: false };
  };

  const mismatch = (batch: ValidBatch, accepted: number, duplicates: number, rejected: number) => {
    const n = batch.ns.length;
    if (rejected > 0) return `${rejected} of ${n} valid events rejected`;
    if (batch.uncertain)
      return accepted + duplicates === n ? undefined : `${accepted}+${duplicates} of ${n}`;
    if (batch.resend) return duplicates === n ? undefined : `resent ${n}: ${accepted} accepted`;
    return accepted === n ? undefined : `fresh ${n}: ${duplicates} counted as duplicates`;
  };

  return {
    /** The next valid batch as a socket frame and its seq. */
    frame(): { seq: number; bytes: Buffer } {
      const batch = take();
      inFlight.set(batch.seq, batch);
      report.batchesSent += 1;
      return {
        seq: batch.seq,
        bytes: packr.pack({ t: 'events', seq: batch.seq, events: events(batch) }),
      };
    },
    /** The next valid batch as an HTTP body (JSON). */
    body(): { seq: number; json: string } {
      const batch = take();
      inFlight.set(batch.seq, batch);
      report.batchesSent += 1;
      return { seq: batch.seq, json: JSON.stringify({ events: events(batch) }) };
    },
    isValidSeq: (value: unknown): value is number =>
      typeof value === 'number' && inFlight.has(value),
    acked(seqOf: number, accepted: number, duplicates: number, rejected: number): void {
      const batch = inFlight.get(seqOf);
      if (!batch) return;
      inFlight.delete(seqOf);
      const wrong = mismatch(batch, accepted, duplicates, rejected);
      if (wrong && report.mismatches.length < 20) report.mismatches.push(wrong);
      report.acceptedEvents += accepted;
      report.duplicateEvents += duplicates;
      for (const n of batch.ns) acked.add(n);
      if (!batch.resend) ackedBatches.push(batch);
    },
    /** Refused whole (RATE_LIMITED, BACKPRESSURE …): nothing of it was stored. */
    refused(seqOf: number, code: string): void {
      const batch = inFlight.get(seqOf);
      if (!batch) return;
      report.refusedCodes[code] = (report.refusedCodes[code] ?? 0) + 1;
      inFlight.delete(seqOf);
      waiting.push(batch);
    },
    /** Its socket or connection went away before the answer: stored or not, unknown. */
    lost(seqOf: number): void {
      const batch = inFlight.get(seqOf);
      if (!batch) return;
      inFlight.delete(seqOf);
      waiting.push({ ...batch, uncertain: true });
    },
    pending: (): number => waiting.length,
    report(): ValidReport {
      return { ...report, acked: [...acked], unacked: waiting.length + inFlight.size };
    },
  };
}

export type ValidEvents = ReturnType<typeof createValidEvents>;
