import { z } from 'zod';
import { notificationSpecSchema, standingAudiences } from '../rules/rule-spec.js';

/** Wall-clock date and time without a zone, read in each recipient's own time zone. */
const localDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

/**
 * A campaign: one named send of a notification to a segment, a saved cohort, a churn-risk
 * group or a list, now or later, paced to `ratePerSecond`. `sendAt` is `now`, an instant
 * (epoch ms or ISO-8601 with its offset), a wall-clock time read in each recipient's time zone
 * (`localTime: true`, e.g. `2026-12-05T09:00`) or `best`: each recipient's own best hour
 * (src/analytics/send-hours.ts). Strings in `notification` are `{{path}}` templates over the
 * recipient (`userId`) and the campaign (`campaign.id`, `campaign.name`).
 *
 * @example
 * { name: 'spring_tour', audience: { kind: 'cohort', cohort: 'fans' }, sendAt: 'best',
 *   notification: { category: 'news', template: 'tour', title: 'On tour', body: 'Dates are out' } }
 */
export const campaignSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'campaign names are lowercase [a-z0-9_-], at most 64'),
    audience: z.discriminatedUnion('kind', [...standingAudiences]),
    // A rule's without `dedupKey` (the campaign's own) and `steps` (a campaign sends once):
    // strict, so either is refused rather than ignored.
    notification: notificationSpecSchema.omit({ dedupKey: true, steps: true }).strict(),
    sendAt: z
      .union([
        z.enum(['now', 'best']),
        z.number().int().min(0),
        z.iso.datetime({ offset: true }),
        z.string().regex(localDateTime, 'a local date and time, YYYY-MM-DDTHH:MM'),
      ])
      .default('now'),
    localTime: z.boolean().default(false),
    ratePerSecond: z.number().int().min(1).max(10_000).default(100),
  })
  .refine((c) => c.localTime === (typeof c.sendAt === 'string' && localDateTime.test(c.sendAt)), {
    message: 'localTime goes with a sendAt of YYYY-MM-DDTHH:MM and no zone, and only with it',
    path: ['sendAt'],
  });

export type CampaignSpec = z.infer<typeof campaignSpecSchema>;
export type CampaignAudience = CampaignSpec['audience'];
