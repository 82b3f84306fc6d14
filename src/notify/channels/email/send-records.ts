import { part, sortableTime, type StateStore } from '../../../state/state-store.js';

/**
 * What is known about one notification's email: `sending` is written before the provider
 * is called, `sent` once it accepted (its answer, or a webhook event naming the notification
 * when the answer was lost), `failed` when it refused for good.
 */
export type SendRecord =
  | { status: 'sending'; ts: number }
  | { status: 'sent'; ts: number; detail: string }
  | { status: 'failed'; ts: number; reason: string };

/**
 * Idempotency records per notification in the StateStore (`emailsent/<project>/<id>`).
 * Router ids start with their time, so `prune` drops old records by key range.
 *
 * @example
 * const earlier = await records.begin('shop', n.id); // undefined: this attempt may send
 */
export function createSendRecords(state: StateStore, now = Date.now) {
  const keyOf = (project: string, id: string) => `emailsent/${project}/${part(id)}`;
  const get = (project: string, id: string) => state.get<SendRecord>(keyOf(project, id));

  return {
    get,
    /**
     * Claims the send: writes `sending` unless a record exists, atomically, so two attempts
     * never both send. Answers the earlier record when there was one.
     */
    async begin(project: string, id: string): Promise<SendRecord | undefined> {
      const claimed = await state.putIfAbsent(keyOf(project, id), { status: 'sending', ts: now() });
      return claimed ? undefined : ((await get(project, id)) ?? { status: 'sending', ts: now() });
    },
    async sent(project: string, id: string, detail: string): Promise<void> {
      await state.put(keyOf(project, id), { status: 'sent', ts: now(), detail });
    },
    async failed(project: string, id: string, reason: string): Promise<void> {
      await state.put(keyOf(project, id), { status: 'failed', ts: now(), reason });
    },
    /** The provider certainly did not take it: the next attempt may send. */
    async release(project: string, id: string): Promise<void> {
      await state.del(keyOf(project, id));
    },
    /** A provider event proves it took the message: a `sending` record becomes `sent`. */
    async confirm(project: string, id: string, evidence: string): Promise<boolean> {
      let confirmed = false;
      // Atomic: the same provider event delivered to two nodes confirms once.
      await state.update<SendRecord>(keyOf(project, id), (record) => {
        confirmed = record?.status === 'sending';
        return confirmed ? { status: 'sent', ts: now(), detail: evidence } : record;
      });
      return confirmed;
    },
    /** Drops records of notifications made before `beforeMs` (router ids sort by time). */
    async prune(project: string, beforeMs: number): Promise<number> {
      const old = await state.list<SendRecord>(`emailsent/${project}/`, {
        before: keyOf(project, sortableTime(beforeMs)),
        limit: 10_000,
      });
      for (const [key] of old) await state.del(key);
      return old.length;
    },
  };
}

export type SendRecords = ReturnType<typeof createSendRecords>;
