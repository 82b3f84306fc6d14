import { createHash } from 'node:crypto';

/** One variant of a notification's template, and its share of the recipients. */
export interface TemplateVariant {
  template: string;
  /** Relative: [{weight: 1}, {weight: 3}] sends the second to 3 in 4. */
  weight: number;
}

/**
 * The variant a user gets from `scope` (a rule's or a campaign's name): the same every time,
 * on every node, whatever else changed, since it depends only on the scope, the user and the
 * variants. The user's point in [0, 1) comes from SHA-256 of scope and user; each variant
 * takes a slice of [0, 1) as wide as its share of the weights, in order.
 *
 * @example
 * pickVariant([{ template: 'welcome_a', weight: 1 }, { template: 'welcome_b', weight: 1 }], 'welcome', 'u42');
 */
export function pickVariant(
  variants: readonly TemplateVariant[],
  scope: string,
  userId: string,
): TemplateVariant {
  const digest = createHash('sha256').update(`${scope}\n${userId}`).digest();
  const point = digest.readUIntBE(0, 6) / 2 ** 48;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let edge = 0;
  for (const variant of variants) {
    edge += variant.weight / total;
    if (point < edge) return variant;
  }
  return variants[variants.length - 1]!;
}
