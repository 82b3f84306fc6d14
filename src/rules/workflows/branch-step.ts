import { readPath } from '../../lib/field-path.js';
import type { StepResult } from './step-result.js';
import type { WorkflowRun } from './workflow-run.js';
import type { StepOf } from './workflow-spec.js';

/** The recipient's notification preferences (notify/preferences.ts). */
export type PreferencesOf = (project: string, userId: string) => Promise<object>;

/**
 * `branch`: reads the recipient's preference (`digest`, `email`, `categories.news.email`) or
 * a field of the firing's context (`props.plan`; `userId` is the recipient), tests it with
 * `equals`, `in` or `exists` (absent reads as null), and goes into `then` or `else` (on, past
 * the branch, when that one is empty).
 */
export async function branchStep(
  run: WorkflowRun,
  step: StepOf<'branch'>,
  preferences: PreferencesOf,
): Promise<StepResult> {
  const byPreference = 'preference' in step.on;
  const path = 'preference' in step.on ? step.on.preference : step.on.field;
  const source = byPreference
    ? await preferences(run.project, run.userId)
    : { ...run.context, ...run.vars, userId: run.userId };
  const value = readPath(source, path) ?? null;
  const holds =
    step.exists !== undefined
      ? (value !== null) === step.exists
      : step.in !== undefined
        ? step.in.includes(value as never)
        : value === step.equals;
  const arm = holds ? 'then' : 'else';
  const reason = `branch on ${byPreference ? 'preference' : 'field'} ${path}: ${arm}`;
  if (step[arm].length === 0) return { go: 'next', run, reason };
  return { go: 'into', run: { ...run, cursor: [...run.cursor, arm, 0] }, reason };
}
