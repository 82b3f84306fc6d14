import { readPath } from '../lib/field-path.js';
import { asText } from '../pipeline/aggregates/aggregate.js';
import type { Firing } from './firing.js';
import type { FollowGraph } from './follow-graph.js';
import type { Condition } from '../pipeline/stream-spec.js';
import { render, type Context } from './render.js';
import type { AudienceOf } from './rule-spec.js';

/**
 * What segment audiences need of event storage (storage/segment-query.ts): one page of the
 * project's users with a matching event in the span, in byte order after `page.after`.
 */
export interface SegmentQuery {
  users(
    project: string,
    segment: { types?: readonly string[]; where: readonly Condition[]; sinceMs: number },
    nowMs: number,
    page: { after: string; limit: number },
  ): Promise<string[]>;
}

/** String values (and strings in `in` lists) may name the firing's context: `{{props.showId}}`. */
const renderCondition = (condition: Condition, context: Context): Condition => {
  const { value } = condition;
  if (typeof value === 'string') return { ...condition, value: render(value, context) };
  if (Array.isArray(value))
    return {
      ...condition,
      value: value.map((v: unknown) => (typeof v === 'string' ? render(v, context) : v)),
    };
  return condition;
};

export const defaultAudienceOptions = {
  segmentPageSize: 10_000, // users per ClickHouse page of a segment
};

/**
 * Who a firing notifies: the triggering event's user, the followers of an entity named by
 * the event (or the window's key), a fixed list, or a segment query on ClickHouse. Users
 * come one by one, in pages from the stores, so a large audience is never held whole.
 *
 * @example
 * const audience = createAudience({ follows, segments: createSegmentQuery(ch) });
 * for await (const userId of audience.users(firing)) await route(toIntent(firing, userId));
 */
export function createAudience(
  deps: { follows: FollowGraph; segments: SegmentQuery; now?: () => number },
  options: Partial<typeof defaultAudienceOptions> = {},
) {
  const { follows, segments } = deps;
  const opts = { ...defaultAudienceOptions, ...options };
  const now = deps.now ?? Date.now;

  async function* segment(firing: Firing, audience: AudienceOf<'segment'>) {
    const at = now(); // one time for every page, so pages cover the same span
    const where = audience.where.map((condition) => renderCondition(condition, firing.context));
    const filled = { ...audience, where };
    let after = '';
    for (;;) {
      const page = { after, limit: opts.segmentPageSize };
      const users = await segments.users(firing.project, filled, at, page);
      yield* users;
      if (users.length < opts.segmentPageSize) return;
      after = users[users.length - 1]!;
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
