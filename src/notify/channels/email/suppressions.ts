import { createHash } from 'node:crypto';
import { createSealedRecords } from '../../../state/sealed-records.js';
import { plainSealer, type Sealer } from '../../../state/sealer.js';
import { part, type StateStore } from '../../../state/state-store.js';

/** Provider events that stop email to a user. */
export const suppressingEvents = [
  'bounce',
  'dropped',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
] as const;
export type SuppressionReason = (typeof suppressingEvents)[number];

export interface Suppression {
  reason: SuppressionReason;
  /** The address that bounced; undefined when the user is off email whatever the address. */
  email: string | undefined;
  notificationId: string;
  detail: string;
  ts: number;
}

/** What an erased user's suppression keeps, under a hash of the address (see `forget`). */
type ErasedSuppression = Pick<Suppression, 'reason' | 'ts'>;

/** A bounce or drop is about an address; a spam report or unsubscribe is the user's wish. */
const aboutAddress = (reason: SuppressionReason) => reason === 'bounce' || reason === 'dropped';

/**
 * Users whose email is disabled, in the StateStore (`emailsup/<project>/<user>`, the address
 * sealed; after the user is erased, `emailsup-hash/<project>/<sha256 of the address>`). A
 * bounce or drop disables the address that failed, so a user who puts a new address in their
 * preferences gets email again; a spam report or unsubscribe disables email for the user.
 *
 * @example
 * await suppressions.suppress('shop', 'u1', { reason: 'bounce', email: 'a@x.io', notificationId: 'n1', detail: '550' });
 * await suppressions.blocks('shop', 'u1', 'a@x.io'); // the suppression
 */
export function createSuppressions(
  state: StateStore,
  now = Date.now,
  sealer: Sealer = plainSealer,
) {
  const keyOf = (project: string, userId: string) => `emailsup/${project}/${part(userId)}`;
  const records = createSealedRecords<Suppression>(state, sealer, ['email']);
  const get = (project: string, userId: string) => records.get(keyOf(project, userId));
  // What an erased user's suppression leaves: the reason under a hash of the address.
  const hashKeyOf = (project: string, email: string) =>
    `emailsup-hash/${project}/${createHash('sha256').update(email.toLowerCase()).digest('hex')}`;

  return {
    get,
    /** Records a suppression; false when one at least as broad was there already. */
    async suppress(
      project: string,
      userId: string,
      fields: Omit<Suppression, 'ts' | 'email'> & { email?: string | undefined },
    ): Promise<boolean> {
      const email = aboutAddress(fields.reason) ? fields.email?.toLowerCase() : undefined;
      let recorded = false;
      // Atomic: a bounce recorded at the same time on another node must not replace a spam report.
      await records.update(keyOf(project, userId), (existing) => {
        recorded = !existing || (existing.email !== undefined && existing.email !== email);
        return recorded ? { ...fields, email, ts: now() } : existing;
      });
      return recorded;
    },
    /** The suppression that stops email to `email` for this user, if any. */
    async blocks(project: string, userId: string, email: string): Promise<Suppression | undefined> {
      const found = await get(project, userId);
      if (found && (found.email === undefined || found.email === email.toLowerCase())) return found;
      const erased = await state.get<ErasedSuppression>(hashKeyOf(project, email));
      return erased && { ...erased, email: undefined, notificationId: '', detail: '' };
    },
    /**
     * For an erased user: drops the user's suppression and keeps only its reason under a
     * SHA-256 of `email` (the address that bounced, else the user's address), so the address
     * stays suppressed for whoever uses it next without any record naming it or the user.
     */
    async forget(project: string, userId: string, email: string | undefined): Promise<void> {
      const found = await get(project, userId);
      if (!found) return;
      const address = found.email ?? email;
      if (address)
        await state.put(hashKeyOf(project, address), { reason: found.reason, ts: found.ts });
      await state.del(keyOf(project, userId));
    },
    /** Enables email again (the user asked for it, or support cleared the bounce). */
    async lift(project: string, userId: string): Promise<void> {
      await state.del(keyOf(project, userId));
    },
  };
}

export type Suppressions = ReturnType<typeof createSuppressions>;
