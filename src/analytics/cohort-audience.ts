import { BacklineError } from '../errors.js';
import type { CohortAudience } from '../rules/audience.js';
import type { CohortQuery } from '../storage/analytics/cohort-sql.js';
import type { CohortCatalog } from './cohort-catalog.js';
import { cohortRule } from './cohort-spec.js';

/**
 * Saved cohorts as rule audiences: the cohort's known users (persons with a user id, since an
 * anonymous visitor cannot be notified), read as saved when the rule fires.
 *
 * @example
 * const rules = createRulesService({ …, cohorts: createCohortAudience({ cohorts, members: queries.cohorts }) });
 */
export function createCohortAudience(deps: {
  cohorts: Pick<CohortCatalog, 'get'>;
  members: Pick<CohortQuery, 'members'>;
}): CohortAudience {
  return {
    async users(project, name, nowMs, page) {
      const spec = await deps.cohorts.get(project, name);
      if (!spec) throw new BacklineError('UNKNOWN_COHORT', `no cohort \`${name}\` in ${project}`);
      const rule = cohortRule(spec, nowMs);
      return deps.members.members(project, rule, { ...page, identifiedOnly: true });
    },
  };
}
