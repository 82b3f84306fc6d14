import type { DecisionRow } from '../model/decision.js';
import type { EventRow } from '../model/event.js';
import type { BatchWriter } from '../storage/batch-writer.js';
import type { UserData } from '../storage/user-data.js';
import { isUserDecision, isUserEvent, windowWithout, type UserIds } from '../storage/user-rows.js';
import type { WindowRow } from '../storage/window-store.js';
import type { EraseRecord } from './erase-journal.js';
import { eraseUserState, stateNotificationIds, type UserStateDeps } from './user-state.js';

type Writer<Row> = Pick<BatchWriter<Row>, 'durable' | 'rewriteSpooled'>;

export interface EraseStepDeps {
  data: Pick<
    UserData,
    | 'anonymousIds'
    | 'notificationIds'
    | 'eraseEvents'
    | 'eraseIdentities'
    | 'eraseWarehouse'
    | 'eraseDecisions'
    | 'eraseWindows'
  >;
  userState: UserStateDeps;
  /** The writers whose rows may still be in memory or in a spool. */
  writers: { events: Writer<EventRow>; decisions: Writer<DecisionRow>; windows: Writer<WindowRow> };
  /** The rollup tables of a project's streams. */
  rollupTables(project: string): string[];
  /** Longest wait for rows accepted before the erase to reach ClickHouse or a spool (ms). */
  flushTimeoutMs: number;
}

/** One step of an erase: idempotent, so a resumed erase may run it again. Answers what it removed. */
export interface EraseStep {
  name: string;
  /** False for a step that removes nothing itself (its count stays out of the answer). */
  counted?: false;
  run(user: UserIds, record: EraseRecord): Promise<number>;
}

/**
 * The steps of an erase, in order, after `collectIds` (journalled, so every step, resumed or
 * not, works on the same ids). Rows are flushed, then filtered out of the
 * spools (a spooled row would reach ClickHouse after its delete), then deleted from
 * ClickHouse, then the state goes.
 */
export function eraseSteps(deps: EraseStepDeps): EraseStep[] {
  const { data, writers } = deps;
  return [
    {
      name: 'flush',
      counted: false,
      async run() {
        const flushed = Promise.all([
          writers.events.durable(),
          writers.decisions.durable(),
          writers.windows.durable(),
        ]);
        await withTimeout(flushed, deps.flushTimeoutMs, 'rows accepted before the erase');
        return 0;
      },
    },
    {
      name: 'spool',
      async run(user) {
        const events = await writers.events.rewriteSpooled((row) =>
          isUserEvent(user, row) ? undefined : row,
        );
        const decisions = await writers.decisions.rewriteSpooled((row) =>
          isUserDecision(user, row) ? undefined : row,
        );
        const windows = await writers.windows.rewriteSpooled((row) => windowWithout(user, row));
        return events + decisions + windows;
      },
    },
    { name: 'events', run: (user) => data.eraseEvents(user) },
    { name: 'identities', run: (user) => data.eraseIdentities(user) },
    { name: 'warehouse', run: (user) => data.eraseWarehouse(user) },
    { name: 'decisions', run: (user) => data.eraseDecisions(user) },
    { name: 'windows', run: (user) => data.eraseWindows(user, deps.rollupTables(user.project)) },
    {
      name: 'state',
      run: (user, record) => eraseUserState(deps.userState, user, record.notificationIds ?? []),
    },
  ];
}

/** The ids every step works on: found once, before anything is deleted. */
export async function collectIds(deps: EraseStepDeps, project: string, userId: string) {
  const anonymousIds = await deps.data.anonymousIds(project, userId);
  const decided = await deps.data.notificationIds(project, userId);
  const kept = await stateNotificationIds(deps.userState.state, project, userId);
  return { anonymousIds, notificationIds: [...new Set([...decided, ...kept])] };
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not durable within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
