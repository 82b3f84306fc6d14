import type { SavedIn } from '../state/definition-store.js';
import { openSavedDefinitions } from '../state/saved-definitions.js';
import { cohortSpecSchema, type CohortSpec } from './cohort-spec.js';

/**
 * Saved cohorts of each project, made through the admin API and kept like streams and rules:
 * in `<dataDir>/cohorts.json` on a single node, or in the shared store in cluster mode. A
 * cohort runs nowhere, so `get` reads what is saved each time (another node may have changed
 * it) instead of waiting for an announcement.
 *
 * @example
 * const cohorts = createCohortCatalog({ file: join(dataDir, 'cohorts.json') });
 * await cohorts.define('dev', 'new_fans', { conditions: [{ kind: 'first_seen', withinMs: 604800000 }] });
 */
export function createCohortCatalog(deps: SavedIn<CohortSpec>) {
  const saved =
    'saved' in deps ? deps.saved : openSavedDefinitions(deps.file, cohortSpecSchema, 'BAD_COHORT');
  const get = async (project: string, name: string): Promise<CohortSpec | undefined> =>
    (await saved.reload(project, name)) ?? undefined;

  return {
    list: (project: string): CohortSpec[] => saved.specsFor(project, []),
    get,
    /** Validates `raw` (a cohort without its name) and keeps it; BAD_COHORT names the bad part. */
    async define(project: string, name: string, raw: unknown): Promise<CohortSpec> {
      const spec = saved.parse(name, raw);
      await saved.defined(project, spec);
      return spec;
    },
    async remove(project: string, name: string): Promise<boolean> {
      if (!(await get(project, name))) return false;
      await saved.removed(project, name);
      return true;
    },
  };
}

export type CohortCatalog = ReturnType<typeof createCohortCatalog>;
