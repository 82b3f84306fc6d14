import type { JobSpec } from './job-spec.js';
import type { Evaluation } from './model-jobs.js';

/** One finished run, as the status API shows it. */
export interface RunRecord {
  /** The run's id: its start (epoch ms). */
  run: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  /** Rows written; null when the run did not complete. */
  rows: number | null;
  outcome: 'ok' | 'failed' | 'interrupted';
  error?: string;
  /** A model job's figures on its held-out split, next to its baseline's. */
  evaluation?: Evaluation;
}

export interface JobStatus {
  /** The run in progress: who runs it, and when it last said it still does. */
  running: { run: number; instance: string; heartbeatAt: number } | null;
  /** A run asked for through the API, taken by the next check that may run it. */
  requestedAt: number | null;
  lastRun: RunRecord | null;
  /** Its rows are the job's table now. */
  lastSuccess: RunRecord | null;
  runs: number;
  failures: number;
}

/** A job as kept in the StateStore: its definition and status, changed together atomically. */
export interface JobRecord {
  project: string;
  name: string;
  spec: JobSpec;
  status: JobStatus;
}

export const emptyStatus: JobStatus = {
  running: null,
  requestedAt: null,
  lastRun: null,
  lastSuccess: null,
  runs: 0,
  failures: 0,
};

/** When the job runs next: asked for, never run, or `everyMs` after the last run began. */
export function nextRunAt(record: JobRecord): number {
  const { status, spec } = record;
  if (status.requestedAt !== null) return status.requestedAt;
  const last = status.lastRun?.startedAt;
  return last === undefined ? 0 : last + spec.everyMs;
}

export interface ClaimRules {
  instance: string;
  nowMs: number;
  /** A run whose heartbeat is older than this is taken for dead (ms). */
  staleMs: number;
  /** Single node: no other process runs jobs, so a run of another instance died with it. */
  exclusive: boolean;
}

/** Whether the run in progress is dead: its process stopped saying it runs. */
export function isDead(running: NonNullable<JobStatus['running']>, rules: ClaimRules): boolean {
  if (running.instance === rules.instance) return false;
  return rules.exclusive || rules.nowMs - running.heartbeatAt > rules.staleMs;
}

/**
 * The record with a new run claimed by `rules.instance`, or unchanged when a live run holds
 * the job or it is not due. A dead run it replaces is recorded as interrupted. Pure: it runs
 * inside the StateStore's atomic update, which may call it more than once.
 */
export function claimed(record: JobRecord, rules: ClaimRules): JobRecord {
  const { status } = record;
  if (status.running && !isDead(status.running, rules)) return record;
  if (!status.running && nextRunAt(record) > rules.nowMs) return record;
  const cut = status.running;
  const interrupted: RunRecord | null = cut && {
    run: cut.run,
    startedAt: cut.run,
    finishedAt: rules.nowMs,
    durationMs: rules.nowMs - cut.run,
    rows: null,
    outcome: 'interrupted',
    error: `instance ${cut.instance} stopped during the run`,
  };
  return {
    ...record,
    status: {
      ...status,
      running: { run: rules.nowMs, instance: rules.instance, heartbeatAt: rules.nowMs },
      requestedAt: null,
      lastRun: interrupted ?? status.lastRun,
      runs: status.runs + (interrupted ? 1 : 0),
      failures: status.failures + (interrupted ? 1 : 0),
    },
  };
}

/** The record with `done` as its last run, if `run` is still the one in progress. */
export function finished(record: JobRecord, run: number, done: RunRecord): JobRecord {
  const { status } = record;
  if (status.running?.run !== run) return record;
  return {
    ...record,
    status: {
      ...status,
      running: null,
      lastRun: done,
      lastSuccess: done.outcome === 'ok' ? done : status.lastSuccess,
      runs: status.runs + 1,
      failures: status.failures + (done.outcome === 'ok' ? 0 : 1),
    },
  };
}
