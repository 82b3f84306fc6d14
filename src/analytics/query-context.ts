import { BacklineError, isBacklineError } from '../errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { CohortRule } from '../storage/analytics/cohort-sql.js';
import type { CohortCatalog } from './cohort-catalog.js';
import { cohortRule } from './cohort-spec.js';

export interface QueryContextDeps {
  cohorts: Pick<CohortCatalog, 'get'>;
  metrics?: Pick<Metrics, 'analyticsQuerySeconds' | 'analyticsQueryFailures'>;
  now?: () => number;
}

/**
 * What every analytics API shares: the clock, a saved cohort filter resolved as of now (404
 * UNKNOWN_COHORT), and timing and counting per API.
 *
 * @example
 * const context = createQueryContext({ cohorts, metrics });
 * const trends = context.timed('trends', async (project: string) => …);
 */
export function createQueryContext(deps: QueryContextDeps) {
  const { metrics } = deps;
  const now = deps.now ?? Date.now;

  /** The cohort's rule as of now, for a scope's `cohort`; nothing without a name. */
  async function cohortOf(
    project: string,
    name: string | undefined,
  ): Promise<{ cohort?: CohortRule }> {
    if (name === undefined) return {};
    const spec = await deps.cohorts.get(project, name);
    if (!spec) throw new BacklineError('UNKNOWN_COHORT', `no cohort \`${name}\` in this project`);
    return { cohort: cohortRule(spec, now()) };
  }

  function timed<A extends unknown[], R>(api: string, run: (...args: A) => Promise<R>) {
    return async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await run(...args);
      } catch (err) {
        metrics?.analyticsQueryFailures.inc({
          api,
          reason: isBacklineError(err) ? err.code : 'storage',
        });
        throw err;
      } finally {
        metrics?.analyticsQuerySeconds.observe({ api }, (performance.now() - started) / 1000);
      }
    };
  }

  return { now, cohortOf, timed };
}

export type QueryContext = ReturnType<typeof createQueryContext>;
