import { actorDaysTable } from './actor-days.js';
import type { ClickHouse } from './clickhouse.js';
import { quote } from './field-sql.js';
import { arrayLiteral, deleteWhere, unlogged, type UserIds } from './user-rows.js';

/** The identity merges table (clickhouse/005_identities.sql). */
export const identitiesTable = 'identities';

/**
 * Removes a user from the identity merges and from who was active on which day (`actor_days`,
 * whose rows of the user's events the events' delete does not reach): every state row whose merge names the user goes
 * (an insert block's row keeps one user per anonymous id, the block's first). Then the
 * merges of the user's anonymous ids are taken again from the events that remain, so a shared
 * device whose first sign-in was the erased user now merges into the next user seen on it,
 * as if the erased user had never been. Run after the user's events are deleted; idempotent
 * (states of the same events merge to the same user), so a resumed erase may run it again.
 * Answers the state rows deleted.
 */
export async function eraseUserIdentities(ch: ClickHouse, user: UserIds): Promise<number> {
  const project = quote(user.project);
  const userId = quote(user.userId);
  const deleted = await deleteWhere(
    ch,
    identitiesTable,
    `project = ${project} AND finalizeAggregation(user_id) = ${userId}`,
  );
  const anonymous = user.anonymousIds.length
    ? ` OR (identified = 0 AND has(${arrayLiteral(user.anonymousIds)}, actor))`
    : '';
  await deleteWhere(
    ch,
    actorDaysTable,
    `project = ${project} AND ((identified = 1 AND actor = ${userId})${anonymous})`,
  );
  if (user.anonymousIds.length === 0) return deleted;
  await ch.exec(
    `INSERT INTO ${identitiesTable}
     SELECT project, anonymous_id, argMinState(user_id, (ts, id)), min(ts) FROM events
     WHERE project = ${project} AND user_id != '' AND user_id != ${userId}
       AND has(${arrayLiteral(user.anonymousIds)}, anonymous_id)
     GROUP BY project, anonymous_id ${unlogged}`,
  );
  return deleted;
}
