import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BacklineError } from '../errors.js';
import { ruleSpecSchema, type RuleSpec } from './rule-spec.js';
import type { RulesService } from './rules-service.js';

/** API-made changes: a spec, or null for a rule from configuration that was deleted. */
type Overrides = Record<string, Record<string, RuleSpec | null>>;

/**
 * The rules of each project as the admin API sees them: configuration plus what the API
 * defined or deleted, kept in `<dataDir>/rules.json` (written to a temporary file and
 * renamed, so a crash leaves the old or the new file whole) so a restart keeps them.
 *
 * @example
 * const catalog = createRuleCatalog({ rules, file: join(dataDir, 'rules.json') });
 * for (const spec of catalog.specsFor('dev', configured)) rules.define('dev', spec);
 * catalog.define('dev', 'welcome', { trigger: { kind: 'event', types: ['user.signup'] }, … });
 */
export function createRuleCatalog(deps: { rules: RulesService; file: string }) {
  const { rules, file } = deps;
  const overrides = readOverrides(file);

  const save = () => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(overrides, null, 2));
    renameSync(`${file}.tmp`, file);
  };

  return {
    /** Configuration plus saved overrides: define these before the timers start. */
    specsFor(project: string, configured: readonly RuleSpec[]): RuleSpec[] {
      const own = overrides[project] ?? {};
      const specs = configured.filter((spec) => !(spec.name in own));
      for (const spec of Object.values(own)) if (spec) specs.push(spec);
      return specs;
    },
    list: (project: string): RuleSpec[] => rules.list(project),
    get: (project: string, name: string): RuleSpec | undefined => rules.get(project, name),
    /** Validates `raw` (a spec without its name), runs it and keeps it; BAD_RULE names the bad part. */
    define(project: string, name: string, raw: unknown): RuleSpec {
      const parsed = ruleSpecSchema.safeParse({ ...(raw as object), name });
      if (!parsed.success) {
        throw new BacklineError(
          'BAD_RULE',
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      }
      rules.define(project, parsed.data);
      (overrides[project] ??= {})[name] = parsed.data;
      save();
      return parsed.data;
    },
    async remove(project: string, name: string): Promise<boolean> {
      if (!(await rules.remove(project, name))) return false;
      (overrides[project] ??= {})[name] = null;
      save();
      return true;
    },
  };
}

export type RuleCatalog = ReturnType<typeof createRuleCatalog>;

function readOverrides(file: string): Overrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const raw = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const overrides: Overrides = {};
  for (const [project, specs] of Object.entries(raw)) {
    overrides[project] = {};
    for (const [name, spec] of Object.entries(specs))
      overrides[project]![name] = spec === null ? null : ruleSpecSchema.parse(spec);
  }
  return overrides;
}
