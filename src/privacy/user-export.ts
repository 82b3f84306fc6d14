import type { Suppressions } from '../notify/channels/email/suppressions.js';
import type { PushSubscriptions } from '../notify/channels/web-push/push-subscriptions.js';
import type { PreferenceStore } from '../notify/preferences.js';
import type { StateStore } from '../state/state-store.js';
import type { UserData } from '../storage/user-data.js';
import type { UserIds } from '../storage/user-rows.js';
import { scan } from '../state/state-store.js';
import { preferenceKey, userPrefixes } from './user-state.js';

export interface UserExportDeps {
  data: Pick<UserData, 'anonymousIds' | 'counts' | 'events' | 'decisions'>;
  state: StateStore;
  /** Read through their owners: their values may be encrypted at rest. */
  preferences: Pick<PreferenceStore, 'get'>;
  push: Pick<PushSubscriptions, 'list'>;
  suppressions: Pick<Suppressions, 'get'>;
}

/** The kinds of item an export holds, each line's `kind`. */
export const exportKinds = [
  'preferences',
  'push_subscription',
  'email_suppression',
  'inbox',
  'digest',
  'follow',
  'event',
  'decision',
] as const;
export type ExportKind = (typeof exportKinds)[number];

export interface ExportItem {
  kind: ExportKind;
  item: unknown;
}

export interface UserExport {
  user: UserIds;
  /** Items per kind, counted when the export opened (events arriving later may add some). */
  counts: Record<ExportKind, number>;
  total: number;
  /** Every item: the state ones first, then events and decisions a page at a time. */
  items(): AsyncGenerator<ExportItem>;
}

/**
 * One user's data for a GDPR export: everything the erase would remove, as items. State is
 * small per user and read at once; events and decisions are counted now and read page by
 * page while the export is written.
 *
 * @example
 * const data = await openUserExport(deps, 'dev', 'u42');
 * for await (const { kind, item } of data.items()) write(JSON.stringify({ kind, item }));
 */
export async function openUserExport(
  deps: UserExportDeps,
  project: string,
  userId: string,
): Promise<UserExport> {
  const anonymousIds = await deps.data.anonymousIds(project, userId);
  const user: UserIds = { project, userId, anonymousIds };
  const fromState = await stateItems(deps, project, userId);
  const stored = await deps.data.counts(user);
  const counts = Object.fromEntries(exportKinds.map((kind) => [kind, 0]));
  for (const [kind, list] of fromState) counts[kind] = list.length;
  counts.event = stored.events;
  counts.decision = stored.decisions;
  return {
    user,
    counts: counts as Record<ExportKind, number>,
    total: Object.values(counts).reduce((sum, n) => sum + n, 0),
    async *items() {
      for (const [kind, list] of fromState) for (const item of list) yield { kind, item };
      for await (const page of deps.data.events(user))
        for (const item of page) yield { kind: 'event', item };
      for await (const page of deps.data.decisions(user))
        for (const item of page) yield { kind: 'decision', item };
    },
  };
}

/** The user's items in the StateStore, by kind. */
async function stateItems(
  deps: UserExportDeps,
  project: string,
  userId: string,
): Promise<Array<[ExportKind, unknown[]]>> {
  const { state } = deps;
  const [inbox, digest] = userPrefixes(project, userId);
  const values = async (prefix: string) => (await state.list(prefix)).map(([, value]) => value);
  const stored = (await state.get(preferenceKey(project, userId))) !== undefined;
  return [
    ['preferences', stored ? [await deps.preferences.get(project, userId)] : []],
    ['push_subscription', await deps.push.list(project, userId)],
    ['email_suppression', [await deps.suppressions.get(project, userId)].filter(Boolean)],
    ['inbox', await values(inbox!)],
    ['digest', await values(digest!)],
    ['follow', await followsOf(state, project, userId)],
  ];
}

/** The user's own follow edges (whom they follow), from the project's follow graphs. */
async function followsOf(state: StateStore, project: string, userId: string) {
  const follows: unknown[] = [];
  const edges = scan<{ user: string; ts: number; following: boolean }>(
    state,
    `follow/${encodeURIComponent(project)}/`,
  );
  for await (const [key, edge] of edges) {
    if (edge.user !== userId) continue;
    const [, , graph, entity] = key.split('/');
    follows.push({
      graph,
      entity: decodeURIComponent(entity!),
      following: edge.following,
      ts: edge.ts,
    });
  }
  return follows;
}
