import { createSealedRecords } from '../../state/sealed-records.js';
import { plainSealer, type Sealer } from '../../state/sealer.js';
import type { StateStore } from '../../state/state-store.js';
import { ruleStateKey } from '../firing.js';
import { render, type Context } from '../render.js';
import type { StepResult } from './step-result.js';
import type { WorkflowRun } from './workflow-run.js';
import type { StepOf } from './workflow-spec.js';

export const defaultDigestOptions = {
  maxItems: 100, // firings' contexts kept as `digest.items`; `digest.count` counts every one
  maxMembers: 1000, // firing ids remembered, so a firing retried after a crash counts once
};

/** One open digest of a rule, user and key: the run that leads it and what joined it. */
interface DigestRecord {
  /** Firing id of the run that opened it and sends it once `until` passed. */
  leader: string;
  until: number;
  count: number;
  members: string[];
  items: Context[];
  /** Set by the leader as it takes the digest: later firings open a new one. */
  closed?: true;
}

/**
 * `digest`: the first run of a rule, user and rendered key to reach the step opens a digest
 * (`rule/<project>/<rule>/digest/<user>/<key>`, the contexts sealed) and waits `periodMs`;
 * runs of later firings that reach it meanwhile join it and end. The leader then goes on once
 * for all of them, with `digest.count` and `digest.items` (the firings' contexts, first
 * first) as template variables. Every change is one atomic update, so a firing joins either
 * the digest the leader takes or the next one.
 *
 * @example
 * const digests = createDigestStep(state, sealer);
 * await digests.enter(run, { kind: 'digest', periodMs: 3600_000, key: '{{props.showId}}' }, Date.now());
 */
export function createDigestStep(
  state: StateStore,
  sealer: Sealer = plainSealer,
  options: Partial<typeof defaultDigestOptions> = {},
) {
  const opts = { ...defaultDigestOptions, ...options };
  const records = createSealedRecords<DigestRecord>(state, sealer, ['items']);
  const keyOf = (run: WorkflowRun, step: StepOf<'digest'>) => {
    const key = render(step.key, { ...run.context, userId: run.userId });
    return ruleStateKey(run.project, run.rule, 'digest', run.userId, key);
  };

  function join(current: DigestRecord | undefined, run: WorkflowRun, until: number) {
    const me = run.firing;
    if (!current || current.closed)
      return { leader: me, until, count: 1, members: [me], items: [run.context] };
    if (current.members.includes(me)) return current;
    return {
      ...current,
      count: current.count + 1,
      members: [...current.members, me].slice(-opts.maxMembers),
      items: current.items.length < opts.maxItems ? [...current.items, run.context] : current.items,
    };
  }

  return {
    async enter(run: WorkflowRun, step: StepOf<'digest'>, now: number): Promise<StepResult> {
      const digest = await records.update(keyOf(run, step), (current) =>
        join(current, run, now + step.periodMs),
      );
      if (digest?.leader !== run.firing)
        return { go: 'end', run, reason: `digest: joined ${run.rule}/${digest?.leader}` };
      return { go: 'wait', run, until: digest.until, reason: `digest ${step.periodMs} ms: open` };
    },

    /** The leader takes its digest and goes on with it; the record goes once the run is written. */
    async over(run: WorkflowRun, step: StepOf<'digest'>): Promise<StepResult> {
      const key = keyOf(run, step);
      const mine = (d: DigestRecord | undefined) => d?.leader === run.firing;
      const taken = await records.update(key, (d) => (mine(d) ? { ...d!, closed: true } : d));
      // Gone only when a crash came between taking and writing the run, and a later firing
      // opened a new digest meanwhile: this run then sends for itself.
      const { count, items } = mine(taken) ? taken! : { count: 1, items: [run.context] };
      return {
        go: 'next',
        run: { ...run, vars: { ...run.vars, digest: { count, items } } },
        reason: `digest closed: ${count} firing${count === 1 ? '' : 's'}`,
        afterWrite: () => records.update(key, (d) => (mine(d) ? undefined : d)),
      };
    },
  };
}

export type DigestStep = ReturnType<typeof createDigestStep>;
