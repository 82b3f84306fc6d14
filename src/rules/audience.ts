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

/**
 * What cohort audiences need (src/analytics/cohort-audience.ts): one page of a saved cohort's
 * known users as of `nowMs`, in byte order after `page.after`; rejects for an unknown cohort.
 */
export interface CohortAudience {
  users(
    project: string,
    cohort: string,
    nowMs: number,
    page: { after: string; limit: number },
  ): Promise<string[]>;
}

/**
 * What churn audiences need (src/predictions/predictions-service.ts): one page of the known
 * users whose risk in the churn model's last run is above `above`, in byte order after
 * `page.after`; rejects when the project has no trained churn model.
 */
export interface ChurnAudience {
  users(
    project: string,
    audience: { above: number; job?: string },
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

/** Audiences that need no triggering event (rule-spec.ts `standingAudiences`). */
export type StandingAudience = AudienceOf<'list' | 'segment' | 'cohort' | 'churn'>;

/** Byte order of UTF-8, as ClickHouse sorts strings: pages of every audience follow it. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export const defaultAudienceOptions = {
  segmentPageSize: 10_000, // users per ClickHouse page of a segment or cohort
};

/**
 * Who a firing notifies: the triggering event's user, the followers of an entity named by
 * the event (or the window's key), a fixed list, a segment query on ClickHouse, a saved
 * cohort's users, or the users a churn model rates at risk. Users
 * come one by one, in pages from the stores, so a large audience is never held whole.
 *
 * @example
 * const audience = createAudience({ follows, segments: createSegmentQuery(ch) });
 * for await (const userId of audience.users(firing)) await route(toIntent(firing, userId));
 */
export function createAudience(
  deps: {
    follows: FollowGraph;
    segments: SegmentQuery;
    /** Absent: cohort audiences fail (counted as audience failures). */
    cohorts?: CohortAudience;
    /** Absent: churn audiences fail (counted as audience failures). */
    churn?: ChurnAudience;
    now?: () => number;
  },
  options: Partial<typeof defaultAudienceOptions> = {},
) {
  const { follows, segments } = deps;
  const opts = { ...defaultAudienceOptions, ...options };
  const now = deps.now ?? Date.now;

  /** Every page of users `fetch` gives, at one time for every page so they cover the same span. */
  async function* paged(
    fetch: (at: number, page: { after: string; limit: number }) => Promise<string[]>,
  ) {
    const at = now();
    let after = '';
    for (;;) {
      const users = await fetch(at, { after, limit: opts.segmentPageSize });
      yield* users;
      if (users.length < opts.segmentPageSize) return;
      after = users[users.length - 1]!;
    }
  }

  /**
   * One page of a standing audience's users as of `at` (ms), in byte order after
   * `page.after`: what `users` reads page by page, and what campaigns page through.
   */
  async function page(
    project: string,
    audience: StandingAudience,
    context: Context,
    at: number,
    page: { after: string; limit: number },
  ): Promise<string[]> {
    switch (audience.kind) {
      case 'list':
        return [...new Set(audience.users)]
          .sort(byteOrder)
          .filter((user) => byteOrder(user, page.after) > 0)
          .slice(0, page.limit);
      case 'segment': {
        const where = audience.where.map((condition) => renderCondition(condition, context));
        return segments.users(project, { ...audience, where }, at, page);
      }
      case 'cohort':
        if (!deps.cohorts) throw new Error('cohort audiences need the analytics store');
        return deps.cohorts.users(project, audience.cohort, at, page);
      case 'churn':
        if (!deps.churn) throw new Error('churn audiences need the predictions service');
        return deps.churn.users(project, audience, page);
    }
  }

  return {
    page,
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
        case 'cohort':
        case 'churn':
          yield* paged((at, next) => page(firing.project, audience, firing.context, at, next));
          return;
      }
    },
  };
}

export type AudienceResolver = ReturnType<typeof createAudience>;
