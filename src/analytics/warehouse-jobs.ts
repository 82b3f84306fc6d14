import type { EngagementSettings, JobsSettings } from '../config/analytics-schema.js';
import { BacklineError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { part, type StateStore } from '../state/state-store.js';
import type { ExportFormat } from '../storage/analytics/event-export.js';
import type { WarehouseQuery } from '../storage/analytics/warehouse-sql.js';
import { claimAndRun } from './job-run.js';
import { jobNameSchema, jobSpecSchema } from './job-spec.js';
import type { ModelTrainer } from './model-jobs.js';
import { emptyStatus, isDead, nextRunAt, type JobRecord } from './job-status.js';

export const defaultJobOptions = {
  heartbeatMs: 5000, // a running job says so this often
  staleMs: 30_000, // a run silent this long is taken for dead (cluster; a single node knows at once)
};

export interface WarehouseJobsDeps {
  state: StateStore;
  warehouse: WarehouseQuery;
  settings: JobsSettings;
  /** The feature table's engagement formula. */
  engagement: EngagementSettings;
  /** This process, as run claims name it. */
  instance: string;
  /** Single node: no other process runs jobs. */
  exclusive: boolean;
  /** False on a node that reaches ClickHouse through another: it runs no job itself. */
  runsJobs: boolean;
  metrics?: Pick<Metrics, 'jobRuns' | 'jobRunSeconds'>;
  /** Trains the model jobs (README: Predictions); absent: they fail. */
  models?: ModelTrainer;
  log: Logger;
  now?: () => number;
}

const prefix = 'warehouse/';
const keyOf = (project: string, name: string) => `${prefix}${part(project)}/${part(name)}`;

/** The record as the API shows it. */
const view = (r: JobRecord) => ({
  name: r.name,
  ...r.spec,
  status: { ...r.status, nextRunAt: nextRunAt(r) },
});

/**
 * Warehouse jobs: named materializations of a project's events (README: Warehouse jobs). Each
 * job's definition and status live together in the StateStore (LMDB, or Redis in cluster
 * mode), so both survive restarts and every node sees them. A check every `checkEveryMs`
 * claims each due job with one atomic update, so a job runs at most once at a time across
 * processes; a run's process says it is alive every `heartbeatMs`, and a run whose process
 * died is recorded as interrupted and the job runs again.
 *
 * @example
 * const jobs = createWarehouseJobs({ state, warehouse, settings, engagement, instance, exclusive: true, runsJobs: true, log });
 * await jobs.define('dev', 'daily', { kind: 'daily_users', days: 30, everyMs: 3600000 });
 */
export function createWarehouseJobs(
  deps: WarehouseJobsDeps,
  options: Partial<typeof defaultJobOptions> = {},
) {
  const { state, warehouse, log } = deps;
  const opts = { ...defaultJobOptions, ...options };
  const now = deps.now ?? Date.now;
  const active = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  const runDeps = { ...deps, now, heartbeatMs: opts.heartbeatMs };
  const rules = () => ({
    instance: deps.instance,
    exclusive: deps.exclusive,
    nowMs: now(),
    staleMs: opts.staleMs,
  });

  // A name no job can have (define answers BAD_JOB) names no job: its key, which may be
  // longer than the StateStore takes, is never read or written.
  const isJobName = (name: string) => jobNameSchema.safeParse(name).success;
  const unknownJob = (name: string) =>
    new BacklineError('UNKNOWN_JOB', `no job \`${name}\` in this project`);

  async function record(project: string, name: string): Promise<JobRecord> {
    if (!isJobName(name)) throw unknownJob(name);
    const found = await state.get<JobRecord>(keyOf(project, name));
    if (!found) throw unknownJob(name);
    return found;
  }

  /** Starts every due job this process can claim; resolves once they are started. */
  async function check(): Promise<void> {
    if (!deps.runsJobs) return;
    const at = rules();
    for (const [key, r] of await state.list<JobRecord>(prefix)) {
      const running = r.status.running;
      if (running ? !isDead(running, at) : nextRunAt(r) > at.nowMs) continue;
      const work: Promise<void> = claimAndRun(runDeps, key, at)
        .catch((err: unknown) => log.error({ err, key }, 'warehouse job run failed'))
        .finally(() => active.delete(work));
      active.add(work);
    }
  }

  const checkNow = () => {
    checking ??= check()
      .catch((err: unknown) => log.error({ err }, 'warehouse job check failed'))
      .finally(() => (checking = undefined));
    return checking;
  };

  return {
    name: 'warehouse-jobs',
    async start() {
      if (!deps.runsJobs) return;
      void checkNow();
      timer = setInterval(() => void checkNow(), deps.settings.checkEveryMs);
    },
    async stop() {
      clearInterval(timer);
      await checking;
      await Promise.allSettled([...active]);
    },
    /** Looks for due jobs now (tests, and a run asked for); resolves once their runs end. */
    async runDue(): Promise<void> {
      await checkNow();
      await Promise.allSettled([...active]);
    },

    async list(project: string) {
      const found = await state.list<JobRecord>(`${prefix}${part(project)}/`);
      return found.map(([, r]) => view(r));
    },
    get: async (project: string, name: string) => view(await record(project, name)),

    /** Defines or replaces a job (its status stays); BAD_JOB names the bad part. */
    async define(project: string, name: string, raw: unknown) {
      const parsed = jobSpecSchema.safeParse(raw);
      const named = jobNameSchema.safeParse(name);
      const issue = !named.success ? named.error.issues[0] : parsed.error?.issues[0];
      if (issue || !parsed.data)
        throw new BacklineError('BAD_JOB', `${issue?.path.join('.') || 'name'}: ${issue?.message}`);
      const spec = parsed.data;
      const saved = await state.update<JobRecord>(keyOf(project, name), (cur) => ({
        ...{ project, name, spec },
        status: cur?.status ?? emptyStatus,
      }));
      return view(saved!);
    },

    /** Deletes a job, its status and its rows; false when there was none. */
    async remove(project: string, name: string): Promise<boolean> {
      if (!isJobName(name)) return false;
      const key = keyOf(project, name);
      if (!(await state.get(key))) return false;
      await state.del(key);
      await warehouse.drop(project, name);
      return true;
    },

    /** Asks for a run now: JOB_RUNNING while one runs. */
    async request(project: string, name: string) {
      if (!isJobName(name)) throw unknownJob(name);
      const key = keyOf(project, name);
      const at = rules();
      let busy = false;
      const saved = await state.update<JobRecord>(key, (cur) => {
        busy = Boolean(cur?.status.running && !isDead(cur.status.running, at));
        return cur && !busy ? { ...cur, status: { ...cur.status, requestedAt: at.nowMs } } : cur;
      });
      if (!saved) throw unknownJob(name);
      if (busy) throw new BacklineError('JOB_RUNNING');
      void checkNow();
      return view(saved);
    },

    /** The rows of the job's last successful run, streamed. */
    async rows(project: string, name: string, format: ExportFormat) {
      const r = await record(project, name);
      const success = r.status.lastSuccess;
      if (!success) throw new BacklineError('JOB_NO_ROWS');
      return warehouse.chunks(project, name, r.spec.kind, success.run, format);
    },
  };
}

export type WarehouseJobs = ReturnType<typeof createWarehouseJobs>;
