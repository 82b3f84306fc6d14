import { z } from 'zod';
import { channelField, type ChannelName } from '../../notify/notification.js';

const day = 86_400_000;
/** The longest a step waits: a run is state kept per user, so it must end. */
const maxWaitMs = 30 * day;
const ms = z.number().int().min(1).max(maxWaitMs);
const path = z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a dotted path');
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Engagement states in rising order: `read` implies `seen`, `clicked` implies both. */
export const engagementStates = ['seen', 'read', 'clicked'] as const;
export type EngagementState = (typeof engagementStates)[number];

const leaf = [
  // `channels` absent: the rule's channels, the router picking the first reachable one.
  z.object({ kind: z.literal('send'), channels: z.array(channelField).min(1).optional() }),
  z.object({ kind: z.literal('delay'), ms }),
  z.object({ kind: z.literal('wait_for'), state: z.enum(engagementStates), withinMs: ms }),
  // Firings of the rule for the same user and rendered key within `periodMs` join the first.
  z.object({ kind: z.literal('digest'), periodMs: ms, key: z.string().max(256).default('') }),
  z.object({ kind: z.literal('escalate') }),
] as const;

/** A branch over `inner` steps: on a recipient's preference or a field of the firing. */
const branchOf = <S extends z.ZodType>(inner: S) =>
  z
    .object({
      kind: z.literal('branch'),
      on: z.union([z.object({ preference: path }).strict(), z.object({ field: path }).strict()]),
      equals: scalar.optional(),
      in: z.array(scalar).min(1).max(100).optional(),
      exists: z.boolean().optional(),
      then: z.array(inner).max(16).default([]),
      else: z.array(inner).max(16).default([]),
    })
    .refine((b) => [b.equals, b.in, b.exists].filter((test) => test !== undefined).length === 1, {
      message: 'a branch has exactly one of equals, in or exists',
      path: ['on'],
    });

// Branches nest two deep, by construction: a run's position stays a short path.
const innerStep = z.discriminatedUnion('kind', [
  ...leaf,
  branchOf(z.discriminatedUnion('kind', [...leaf])),
]);
const step = z.discriminatedUnion('kind', [...leaf, branchOf(innerStep)]);

export const workflowStepsSchema = z.array(step).min(1).max(16);

export type WorkflowStep = z.infer<typeof step>;
export type StepOf<K extends WorkflowStep['kind']> = Extract<WorkflowStep, { kind: K }>;

/**
 * What the schema cannot see step by step: `wait_for` and `escalate` come after a `send` on
 * their way (after a branch, when both of its ways sent), and a send's channels are among
 * the rule's, whose order `escalate` follows. Adds an issue naming the bad step; answers
 * whether every way through `steps` sends.
 */
export function checkWorkflow(
  steps: readonly WorkflowStep[],
  channels: readonly ChannelName[],
  ctx: z.RefinementCtx,
  at: Array<string | number>,
  sentBefore = false,
): boolean {
  let sent = sentBefore;
  steps.forEach((s, i) => {
    const where = [...at, i];
    if (s.kind === 'send') {
      const stray = s.channels?.find((c) => !channels.includes(c));
      if (stray)
        ctx.addIssue({
          code: 'custom',
          message: `${stray} is not among the rule's channels`,
          path: [...where, 'channels'],
        });
      sent = true;
    } else if ((s.kind === 'wait_for' || s.kind === 'escalate') && !sent) {
      ctx.addIssue({ code: 'custom', message: `${s.kind} comes after a send`, path: where });
    } else if (s.kind === 'branch') {
      const then = checkWorkflow(s.then, channels, ctx, [...where, 'then'], sent);
      const otherwise = checkWorkflow(s.else, channels, ctx, [...where, 'else'], sent);
      sent = then && otherwise;
    }
  });
  return sent;
}
