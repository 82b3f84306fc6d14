import { readPath } from '../lib/field-path.js';
import { asText } from '../pipeline/aggregates/aggregate.js';
import type { ClickHouse } from '../storage/clickhouse.js';
import type { Firing } from './firing.js';
import type { FollowGraph } from './follow-graph.js';
import type { AudienceOf } from './rule-spec.js';
import { segmentQuery } from './segment-sql.js';

export const defaultAudienceOptions = {
  segmentPageSize: 10_000, // users per ClickHouse page of a segment
};

/**
 * Who a firing notifies: the triggering event's user, the followers of an entity named by
 * the event (or the window's key), a fixed list, or a segment query on ClickHouse. Users
 * come one by one, in pages from the stores, so a large audience is never held whole.
 *
 * @example
 * const audience = createAudience({ follows, ch });
 * for await (const userId of audience.users(firing)) await route(toIntent(firing, userId));
 */
export function createAudience(
  deps: { follows: FollowGraph; ch: ClickHouse; now?: () => number },
  options: Partial<typeof defaultAudienceOptions> = {},
) {
  const { follows, ch } = deps;
  const opts = { ...defaultAudienceOptions, ...options };
  const now = deps.now ?? Date.now;

  async function* segment(firing: Firing, audience: AudienceOf<'segment'>) {
    const at = now(); // one time for every page, so pages cover the same span
    let after = '';
    for (;;) {
      const page = { after, limit: opts.segmentPageSize };
      const { sql, params } = segmentQuery(firing.project, audience, firing.context, at, page);
      const rows = await ch.query<{ user_id: string }>(sql, params);
      for (const row of rows) yield row.user_id;
      if (rows.length < opts.segmentPageSize) return;
      after = rows[rows.length - 1]!.user_id;
    }
  }

  return {
    async *users(firing: Firing): AsyncGenerator<string> {
      const audience = firing.rule.audience;
      switch (audience.kind) {
        case 'user':
          if (firing.userId) yield firing.userId;
          return;
        case 'list':
          yield* new Set(audience.users);
          return;
        case 'followers': {
          const entity = asText(readPath(firing.context, audience.entity));
          if (entity !== undefined) yield* follows.followers(firing.project, audience, entity);
          return;
        }
        case 'segment':
          yield* segment(firing, audience);
          return;
      }
    },
  };
}

export type AudienceResolver = ReturnType<typeof createAudience>;
