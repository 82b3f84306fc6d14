import { z } from 'zod';
import { channelField, channelNames, priorityField } from '../notify/notification.js';
import { streamSpecSchema } from '../pipeline/stream-spec.js';
import { checkWorkflow, workflowStepsSchema } from './workflows/workflow-spec.js';

// stream-spec.ts keeps its field and condition schemas private; reading them off the stream
// schema keeps one definition of what a field path and a `where` condition are.
const fieldPath = streamSpecSchema.shape.groupBy.unwrap().element;
const condition = streamSpecSchema.shape.source.unwrap().shape.where.unwrap().element;

const types = z.array(z.string().min(1)).min(1);
const where = z.array(condition).default([]);
const match = z.object({ types, where });

const trigger = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), types: types.optional(), where }),
  z.object({
    kind: z.literal('threshold'),
    stream: z.string().min(1),
    // An aggregate name, or `name.p95` for one level of a quantiles aggregate.
    value: z.string().min(1),
    above: z.number().optional(),
    below: z.number().optional(),
    // Re-arming needs the value back past the bound by this much, so hovering does not flap.
    hysteresis: z.number().min(0).default(0),
    key: z.string().optional(), // one group key; absent: every key separately
  }),
  z.object({
    kind: z.literal('absence'),
    first: match,
    then: match,
    withinMs: z.number().int().min(1),
  }),
  z.object({
    kind: z.literal('schedule'),
    types,
    where,
    // `field` holds epoch ms or an ISO-8601 string; a negative offset fires before it.
    at: z.object({ field: fieldPath, offsetMs: z.number().int().default(0) }),
  }),
]);

const followEdge = z.object({ types, entity: fieldPath });

const followersAudience = z.object({
  kind: z.literal('followers'),
  // A field of the triggering event, or `key` (the window's group key) for thresholds.
  entity: z.union([fieldPath, z.literal('key')]),
  follow: followEdge,
  unfollow: followEdge,
});

/** Audiences chosen ahead of any firing, without a triggering event: campaigns take these. */
export const standingAudiences = [
  z.object({ kind: z.literal('list'), users: z.array(z.string().min(1)).min(1).max(10_000) }),
  z.object({
    kind: z.literal('segment'),
    types: types.optional(),
    where, // string values may hold {{path}} placeholders over the firing's context
    sinceMs: z.number().int().min(1),
  }),
  // A saved cohort's known users (`/v1/cohorts/:name`), evaluated when the rule fires.
  z.object({
    kind: z.literal('cohort'),
    cohort: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a cohort name'),
  }),
  // Known users whose churn risk (a `churn` model job's last run) is above `above`.
  z.object({
    kind: z.literal('churn'),
    above: z.number().min(0).max(1),
    job: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a job name')
      .optional(),
  }),
] as const;

export const audienceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user') }),
  followersAudience,
  ...standingAudiences,
]);

export const notificationSpecSchema = z.object({
  category: z.string().min(1).max(64),
  template: z.string().min(1).optional(),
  // An A/B test: each recipient gets one of these templates instead of `template`, the same
  // one every time (src/notify/variants.ts); GET /v1/rules/:name/variants compares them.
  variants: z
    .array(z.object({ template: z.string().min(1), weight: z.number().positive().default(1) }))
    .min(2)
    .max(10)
    .refine((v) => new Set(v.map((x) => x.template)).size === v.length, 'each template once')
    .optional(),
  title: z.string().min(1),
  body: z.string(),
  data: z.record(z.string(), z.unknown()).default({}),
  priority: priorityField.default('normal'),
  dedupKey: z.string().min(1).optional(),
  channels: z
    .array(channelField)
    .min(1)
    .default([...channelNames]),
  // A workflow (src/rules/workflows/): these steps replace the single send.
  steps: workflowStepsSchema.optional(),
});

/**
 * A notification rule, declared per project in configuration or through the admin API.
 * Strings in `notification` (title, body, dedupKey, data) are `{{path}}` templates over the
 * firing's context (see render.ts).
 *
 * @example
 * { name: 'show_hot', trigger: { kind: 'threshold', stream: 'votes_per_show', value: 'votes',
 *     above: 1000, hysteresis: 50 },
 *   audience: { kind: 'followers', entity: 'key', follow: { types: ['show.follow'], entity: 'props.showId' },
 *     unfollow: { types: ['show.unfollow'], entity: 'props.showId' } },
 *   notification: { category: 'trending', title: 'Show {{key}} is on fire', body: '{{value}} votes' } }
 */
export const ruleSpecSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'rule names are lowercase [a-z0-9_-], at most 64'),
    trigger,
    audience: audienceSchema,
    notification: notificationSpecSchema,
  })
  .superRefine(({ notification: n }, ctx) => {
    if (n.steps) checkWorkflow(n.steps, n.channels, ctx, ['notification', 'steps']);
  })
  .refine(
    (r) =>
      r.trigger.kind !== 'threshold' ||
      (r.trigger.above === undefined) !== (r.trigger.below === undefined),
    {
      message: 'a threshold has exactly one of above or below',
      path: ['trigger'],
    },
  )
  .refine((r) => r.trigger.kind !== 'threshold' || r.audience.kind !== 'user', {
    message: 'a threshold has no triggering user: use followers, list or segment',
    path: ['audience', 'kind'],
  })
  .refine(
    (r) =>
      r.audience.kind !== 'followers' ||
      (r.audience.entity === 'key') === (r.trigger.kind === 'threshold'),
    {
      message: 'followers of `key` go with thresholds; event triggers name an event field',
      path: ['audience', 'entity'],
    },
  );

export type RuleSpec = z.infer<typeof ruleSpecSchema>;
export type Trigger = RuleSpec['trigger'];
export type TriggerOf<K extends Trigger['kind']> = Extract<Trigger, { kind: K }>;
export type Audience = RuleSpec['audience'];
export type AudienceOf<K extends Audience['kind']> = Extract<Audience, { kind: K }>;
