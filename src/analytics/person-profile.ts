import { BacklineError } from '../errors.js';
import type {
  PersonQueryRunner,
  TimelineCursor,
} from '../storage/analytics/person-timeline-sql.js';
import { createQueryContext, type QueryContextDeps } from './query-context.js';
import { integer, text } from './query-params.js';

export interface PersonProfileDeps extends QueryContextDeps {
  queries: { persons: PersonQueryRunner };
}

/** Far past any id ingest takes (`limits.maxIdLength`): only absurd input is refused. */
const maxIdLength = 1024;

/** `<ts>:<id>`, as `next` gives it. */
function parseCursor(query: URLSearchParams): TimelineCursor | undefined {
  const raw = text(query, 'before');
  if (raw === undefined) return undefined;
  const match = /^(\d{1,15}):(.+)$/s.exec(raw);
  if (!match) throw new BacklineError('BAD_QUERY', '`before` is a `next` of an earlier page');
  return { ts: Number(match[1]), id: match[2]! };
}

function checkId(id: string): void {
  if (id === '' || id.length > maxIdLength || /\p{Cc}/u.test(id))
    throw new BacklineError(
      'BAD_QUERY',
      `the id is 1 to ${maxIdLength} characters, none of them control characters`,
    );
}

/**
 * One person of a project, for a profile page: the person an id stands for (an anonymous id
 * that merged into a user opens that user), the anonymous ids merged into them, their events
 * per type with the total, and their timeline newest first, `limit` (default 50, at most
 * 1,000) a page; `before` (an earlier answer's `next`) pages on.
 *
 * @example
 * const persons = createPersonProfiles({ queries, cohorts, metrics });
 * await persons.profile('dev', 'anon-3', new URLSearchParams('limit=20'));
 */
export function createPersonProfiles(deps: PersonProfileDeps) {
  const { persons } = deps.queries;
  const { timed } = createQueryContext(deps);

  async function profile(project: string, id: string, query: URLSearchParams) {
    checkId(id);
    const limit = integer(query, 'limit', { min: 1, max: 1000 }, 50);
    const before = parseCursor(query);
    const person = await persons.resolve(project, id);
    const [identities, types, timeline] = await Promise.all([
      persons.identities(project, person),
      persons.types(project, person),
      persons.timeline(project, person, { limit, ...(before ? { before } : {}) }),
    ]);
    const last = timeline.length === limit ? timeline[timeline.length - 1] : undefined;
    const events = types.reduce((sum, t) => sum + t.events, 0);
    return {
      id,
      person,
      identified: identities.length > 0 || types.some((t) => t.asUser),
      events,
      firstMs: events === 0 ? null : Math.min(...types.map((t) => t.firstMs)),
      lastMs: events === 0 ? null : Math.max(...types.map((t) => t.lastMs)),
      types: types.map(({ type, events: n }) => ({ type, events: n })),
      identities,
      timeline,
      next: last ? `${last.ts}:${last.id}` : null,
    };
  }

  return { profile: timed('person', profile) };
}

export type PersonProfiles = ReturnType<typeof createPersonProfiles>;
