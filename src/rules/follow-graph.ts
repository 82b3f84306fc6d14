import { createHash } from 'node:crypto';
import { asText } from '../pipeline/aggregates/aggregate.js';
import { readField } from '../pipeline/field-path.js';
import type { StreamEvent } from '../model/event.js';
import type { StateStore } from '../state/state-store.js';
import type { KeyedTask } from './keyed-tasks.js';
import type { AudienceOf } from './rule-spec.js';

type Followers = AudienceOf<'followers'>;

/** The latest follow or unfollow of one user and entity, by event time. */
interface Edge {
  user: string;
  ts: number;
  following: boolean;
}

export const defaultFollowGraphOptions = {
  pageSize: 1000, // followers read from the store per listing
};

/**
 * A graph is named by its follow and unfollow definitions, so rules that watch the same
 * events share one set of followers while artist 7 and show 7 stay apart.
 */
export const graphOf = (audience: Followers): string =>
  createHash('sha1')
    .update(JSON.stringify([audience.follow, audience.unfollow]))
    .digest('hex')
    .slice(0, 16);

/**
 * Followers per entity, kept in the StateStore from follow and unfollow events. Each edge is
 * a last-writer-wins register on event time: an unfollow that arrives before an older follow
 * still wins. Graphs start when a rule using them is defined; earlier events are not read.
 *
 * @example
 * const follows = createFollowGraph(state);
 * await runKeyed(follows.tasks('dev', [rule.audience], events), onError);
 * for await (const user of follows.followers('dev', rule.audience, 'artist-7')) route(user);
 */
export function createFollowGraph(
  state: StateStore,
  options: Partial<typeof defaultFollowGraphOptions> = {},
) {
  const opts = { ...defaultFollowGraphOptions, ...options };
  const prefixOf = (project: string, audience: Followers, entity: string) =>
    `follow/${encodeURIComponent(project)}/${graphOf(audience)}/${encodeURIComponent(entity)}/`;

  const edgeTask = (key: string, edge: Edge): KeyedTask => ({
    key,
    async run() {
      // Atomic, so a follow and an unfollow handled on two nodes at once still end on the later.
      await state.update<Edge>(key, (seen) => (seen && seen.ts > edge.ts ? seen : edge));
    },
  });

  return {
    /** The edge updates in `events` for every distinct graph among `audiences`. */
    tasks(project: string, audiences: readonly Followers[], events: readonly StreamEvent[]) {
      const graphs = new Map(audiences.map((a) => [graphOf(a), a]));
      const tasks: KeyedTask[] = [];
      for (const audience of graphs.values()) {
        const sides = [
          { edge: audience.follow, following: true },
          { edge: audience.unfollow, following: false },
        ].map(({ edge, following }) => ({
          types: new Set(edge.types),
          read: readField(edge.entity),
          following,
        }));
        for (const event of events) {
          if (!event.userId) continue;
          for (const { types, read, following } of sides) {
            const entity = types.has(event.type) ? asText(read(event)) : undefined;
            if (entity === undefined) continue;
            const key = prefixOf(project, audience, entity) + encodeURIComponent(event.userId);
            tasks.push(edgeTask(key, { user: event.userId, ts: event.ts, following }));
          }
        }
      }
      return tasks;
    },

    /** Users following `entity` now, in pages so a large following is never held whole. */
    async *followers(project: string, audience: Followers, entity: string) {
      const prefix = prefixOf(project, audience, entity);
      let after: string | undefined;
      for (;;) {
        const page = await state.list<Edge>(prefix, {
          limit: opts.pageSize,
          ...(after ? { after } : {}),
        });
        for (const [, edge] of page) if (edge.following) yield edge.user;
        if (page.length < opts.pageSize) return;
        after = page[page.length - 1]![0];
      }
    },
  };
}

export type FollowGraph = ReturnType<typeof createFollowGraph>;
