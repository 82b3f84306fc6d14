import type { EngagementSettings } from '../config/analytics-schema.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StateStore } from '../state/state-store.js';
import type { WarehouseQuery, WarehouseRun } from '../storage/analytics/warehouse-sql.js';
import type { PredictionKind } from './model-job-spec.js';
import { isPredictionSpec, type Evaluation, type ModelTrainer } from './model-jobs.js';
import {
  claimed,
  finished,
  type ClaimRules,
  type JobRecord,
  type RunRecord,
} from './job-status.js';

export interface JobRunDeps {
  state: StateStore;
  warehouse: WarehouseQuery;
  /** The feature table's engagement formula. */
  engagement: EngagementSettings;
  metrics?: Pick<Metrics, 'jobRuns' | 'jobRunSeconds'>;
  log: Logger;
  now: () => number;
  /** How often a running job says it is alive (ms). */
  heartbeatMs: number;
  /** Trains the model jobs (README: Predictions); absent: they fail. */
  models?: ModelTrainer;
}

/** Writes one run's rows: a materialization, or a model trained, evaluated and scored. */
async function execute(
  deps: JobRunDeps,
  r: JobRecord,
  run: number,
): Promise<{ rows: number; evaluation?: Evaluation }> {
  const { spec } = r;
  if (!isPredictionSpec(spec))
    return { rows: await deps.warehouse.materialize(runOf(r, run, deps.engagement)) };
  if (!deps.models) throw new Error('model jobs need the predictions service');
  return deps.models.train({ project: r.project, job: r.name, run, spec });
}

/** What the job's definition asks of a run starting at `run`. */
function runOf(r: JobRecord, run: number, engagement: EngagementSettings): WarehouseRun {
  const head = { project: r.project, job: r.name, run };
  const spec = r.spec as Exclude<JobRecord['spec'], { kind: PredictionKind }>;
  if (spec.kind === 'daily_users') return { ...head, kind: spec.kind, days: spec.days };
  if (spec.kind === 'user_features') return { ...head, kind: spec.kind, formula: engagement };
  return { ...head, ...spec };
}

/** Says every `heartbeatMs` that the run is alive, while it is still the job's run. */
function heartbeat(
  deps: JobRunDeps,
  key: string,
  running: NonNullable<JobRecord['status']['running']>,
) {
  return setInterval(() => {
    void deps.state
      .update<JobRecord>(key, (cur) =>
        cur?.status.running?.run === running.run
          ? { ...cur, status: { ...cur.status, running: { ...running, heartbeatAt: deps.now() } } }
          : cur,
      )
      .catch((err: unknown) => deps.log.warn({ err, key }, 'job heartbeat failed'));
  }, deps.heartbeatMs);
}

/**
 * Claims the job at `key` for this process (one atomic update of its record: nothing happens
 * when a live run holds it or it is not due) and runs it: the rows are written, the status
 * records the run, then the job's other runs are deleted (or this run's part, when it failed),
 * so readers switch from one whole run to the next.
 */
export async function claimAndRun(deps: JobRunDeps, key: string, claim: ClaimRules): Promise<void> {
  const { state, warehouse, metrics, log, now } = deps;
  const won = await state.update<JobRecord>(key, (cur) => cur && claimed(cur, claim));
  const running = won?.status.running;
  if (!won || running?.instance !== claim.instance || running.run !== claim.nowMs) return;
  const { run } = running;
  const beat = heartbeat(deps, key, running);
  const started = performance.now();
  const times = () => ({ run, startedAt: run, finishedAt: now(), durationMs: now() - run });
  let done: RunRecord;
  try {
    const { rows, evaluation } = await execute(deps, won, run);
    done = { ...times(), rows, outcome: 'ok', ...(evaluation ? { evaluation } : {}) };
  } catch (err) {
    done = { ...times(), rows: null, outcome: 'failed', error: String(err).slice(0, 500) };
    log.warn({ err, project: won.project, job: won.name }, 'warehouse job failed');
  } finally {
    clearInterval(beat);
  }
  const { kind } = won.spec;
  metrics?.jobRuns.inc({ kind, outcome: done.outcome });
  metrics?.jobRunSeconds.observe({ kind }, (performance.now() - started) / 1000);
  const after = await state.update<JobRecord>(key, (cur) => cur && finished(cur, run, done));
  if (!after)
    await warehouse.drop(won.project, won.name); // deleted meanwhile
  else if (after.status.lastSuccess?.run === run) await warehouse.drop(won.project, won.name, run);
  else if (done.outcome === 'failed') await warehouse.dropRun(won.project, won.name, kind, run);
}
