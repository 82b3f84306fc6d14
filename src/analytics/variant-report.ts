import { BacklineError } from '../errors.js';
import type { RuleSpec } from '../rules/rule-spec.js';
import type { VariantQuery } from '../storage/analytics/variant-sql.js';
import { leader, wilson, type RateEstimate } from './ab-test.js';

export interface VariantResult {
  template: string;
  weight: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  /** Opened and clicked of those delivered, each with its 95% Wilson interval. */
  openRate: RateEstimate;
  clickRate: RateEstimate;
}

export interface VariantReport {
  rule: string;
  variants: VariantResult[];
  /** The variant significantly better than each other one (p < 0.05), else null. */
  opens: { winner: string | null; p: number | null };
  clicks: { winner: string | null; p: number | null };
}

/**
 * A rule's A/B test of email templates (`notification.variants`): per variant what the
 * providers' events say (sent, delivered, opened, clicked: distinct notifications), its open
 * and click rates with 95% Wilson intervals, and the variant, if any, that is significantly
 * better than every other one (two-proportion z-tests, ab-test.ts).
 *
 * @example
 * const reports = createVariantReports({ counts: queries.variants, rules: ruleCatalog });
 * await reports.report('dev', 'welcome');
 */
export function createVariantReports(deps: {
  counts: VariantQuery;
  rules: { get(project: string, name: string): RuleSpec | undefined };
}) {
  const compare = (project: string, scope: string, variants: Variants) =>
    compareVariants(deps.counts, project, scope, variants);
  return {
    /** The A/B test of rule `name`: UNKNOWN_RULE, or BAD_QUERY when it has no variants. */
    async report(project: string, name: string): Promise<VariantReport> {
      const spec = deps.rules.get(project, name);
      if (!spec) throw new BacklineError('UNKNOWN_RULE');
      const variants = spec.notification.variants;
      if (!variants) throw new BacklineError('BAD_QUERY', `rule ${name} has no template variants`);
      return { rule: name, ...(await compare(project, name, variants)) };
    },
    compare,
  };
}

/** Variants as a rule or a campaign declares them. */
type Variants = ReadonlyArray<{ template: string; weight: number }>;

/**
 * How the notifications of `scope` (a rule's name, a campaign's `campaign:<id>`) fared per
 * template variant, with the significantly better one.
 */
async function compareVariants(
  counts: VariantQuery,
  project: string,
  scope: string,
  variants: Variants,
): Promise<Omit<VariantReport, 'rule'>> {
  const found = new Map(
    (
      await counts.counts(
        project,
        scope,
        variants.map((v) => v.template),
      )
    ).map((c) => [c.template, c]),
  );
  const results = variants.map(({ template, weight }): VariantResult => {
    const c = found.get(template) ?? { sent: 0, delivered: 0, opened: 0, clicked: 0 };
    return {
      ...{ template, weight, sent: c.sent, delivered: c.delivered },
      ...{ opened: c.opened, clicked: c.clicked },
      openRate: wilson(c.opened, c.delivered),
      clickRate: wilson(c.clicked, c.delivered),
    };
  });
  const best = (pick: (r: VariantResult) => RateEstimate) =>
    leader(results.map((r) => ({ name: r.template, estimate: pick(r) })));
  return {
    variants: results,
    opens: best((r) => r.openRate),
    clicks: best((r) => r.clickRate),
  };
}

export type VariantReports = ReturnType<typeof createVariantReports>;
