import { publishOn } from '../cluster/bus-channels.js';
import type { Bus } from '../cluster/bus.js';
import type { Logger } from '../ops/logger.js';
import type { SavedIn } from '../state/definition-store.js';
import { openSavedDefinitions } from '../state/saved-definitions.js';
import { ruleSpecSchema, type RuleSpec } from './rule-spec.js';
import type { RulesService } from './rules-service.js';

/**
 * The rules of each project as the admin API sees them: configuration plus what the API
 * defined or deleted, kept in `<dataDir>/rules.json` (written to a temporary file and
 * renamed, so a crash leaves the old or the new file whole) so a restart keeps them.
 *
 * @example
 * const catalog = createRuleCatalog({ rules, file: join(dataDir, 'rules.json'), bus });
 * for (const spec of catalog.specsFor('dev', configured)) rules.define('dev', spec);
 * catalog.define('dev', 'welcome', { trigger: { kind: 'event', types: ['user.signup'] }, … });
 */
export function createRuleCatalog(
  deps: {
    rules: RulesService;
    /** Where a definition changed through the API is announced (channel `definitions`). */
    bus: Bus;
    log?: Logger;
  } & SavedIn<RuleSpec>,
) {
  const { rules } = deps;
  const announce = (project: string, name: string) =>
    publishOn(deps.bus, 'definitions', { project, kind: 'rule', name });
  const saved =
    'saved' in deps ? deps.saved : openSavedDefinitions(deps.file, ruleSpecSchema, 'BAD_RULE');

  return {
    /** Configuration plus saved overrides: define these before the timers start. */
    specsFor: (project: string, configured: readonly RuleSpec[]): RuleSpec[] =>
      saved.specsFor(project, configured),
    list: (project: string): RuleSpec[] => rules.list(project),
    get: (project: string, name: string): RuleSpec | undefined => rules.get(project, name),
    /** Validates `raw` (a spec without its name), runs it and keeps it; BAD_RULE names the bad part. */
    async define(project: string, name: string, raw: unknown): Promise<RuleSpec> {
      const spec = saved.parse(name, raw);
      rules.define(project, spec);
      await saved.defined(project, spec);
      announce(project, name);
      return spec;
    },
    async remove(project: string, name: string): Promise<boolean> {
      if (!(await rules.remove(project, name))) return false;
      await saved.removed(project, name);
      announce(project, name);
      return true;
    },
  };
}

export type RuleCatalog = ReturnType<typeof createRuleCatalog>;
