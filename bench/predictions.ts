/**
 * Issue #17's bench figures, for the `analytics` scenario to call on its running, seeded
 * server: each model job's training time (one run asked for through `/v1/jobs/:name/run`,
 * its `durationMs` as the job status records it) and p50/p99 of `GET
 * /v1/users/:id/recommendations` over users of the trained list (goal p99 < 100 ms), one call
 * at a time, every call a different user.
 */
import { percentile } from './percentiles.js';
import { seededRandom } from './history-routes.js';
import type { ScenarioResult } from './scenario.js';

/** Issue #17: p99 of a user's recommendations under this. */
export const recommendationsGoalMs = 100;

export interface PredictionsBenchOptions {
  /** The server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** A project key with admin (defines and runs the jobs) and users:read. */
  key: string;
  /** Each model job's definition beyond its kind (item fields, event types…). */
  specs?: Partial<Record<'recommendations' | 'churn' | 'forecast', Record<string, unknown>>>;
  warmup?: number;
  calls?: number;
  /** How long one training run may take (ms). */
  trainTimeoutMs?: number;
}

type Json = Record<string, unknown>;

async function call(o: PredictionsBenchOptions, method: string, path: string, body?: unknown) {
  const res = await fetch(`${o.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${o.key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status >= 300)
    throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Defines the job, asks for a run and waits for it; answers its status's last run. */
async function train(o: PredictionsBenchOptions, kind: 'recommendations' | 'churn' | 'forecast') {
  const name = `bench-${kind}`;
  // A day between scheduled runs: only the run asked for here happens while the bench runs.
  await call(o, 'PUT', `/v1/jobs/${name}`, { kind, everyMs: 86_400_000, ...o.specs?.[kind] });
  const asked = JSON.parse(await call(o, 'POST', `/v1/jobs/${name}/run`)) as Json;
  const since = Number((asked.status as Json).requestedAt);
  const deadline = Date.now() + (o.trainTimeoutMs ?? 30 * 60_000);
  while (Date.now() < deadline) {
    const job = JSON.parse(await call(o, 'GET', `/v1/jobs/${name}`)) as { status: Json };
    const last = job.status.lastRun as Json | null;
    if (last && Number(last.run) >= since && !job.status.running) {
      if (last.outcome !== 'ok')
        throw new Error(`${name} ${String(last.outcome)}: ${String(last.error)}`);
      return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${name} did not finish in time`);
}

/** The persons of the trained recommendation lists (the job's rows, CSV). */
async function listedUsers(o: PredictionsBenchOptions, max: number): Promise<string[]> {
  const csv = await call(o, 'GET', '/v1/jobs/bench-recommendations/rows?format=csv');
  const persons = new Set<string>();
  for (const line of csv.split('\n').slice(1)) {
    const person = line.split(',')[0]?.replace(/^"|"$/g, '');
    if (person) persons.add(person);
    if (persons.size >= max) break;
  }
  return [...persons];
}

/**
 * Trains the three model jobs on the server's data, then times the recommendations route.
 * Answers the figures and table rows as the bench scenarios do (scenario.ts).
 */
export async function measurePredictions(
  o: PredictionsBenchOptions,
): Promise<Pick<ScenarioResult, 'figures' | 'table'>> {
  const trained: Record<string, Json> = {};
  // A model the data cannot train (no churn in the seed) is reported, and the others go on.
  const untrained: Record<string, string> = {};
  trained.recommendations = await train(o, 'recommendations');
  for (const kind of ['churn', 'forecast'] as const)
    trained[kind] = await train(o, kind).catch((err: unknown) => {
      untrained[kind] = err instanceof Error ? err.message : String(err);
      return { durationMs: Number.NaN, rows: 0 };
    });
  const warmup = o.warmup ?? 50;
  const calls = o.calls ?? 1000;
  const users = await listedUsers(o, warmup + calls);
  if (users.length === 0) throw new Error('the recommendations job listed no user');
  const random = seededRandom(17);
  const times: number[] = [];
  for (let i = 0; i < warmup + calls; i++) {
    const user = users[Math.floor(random() * users.length)]!;
    const began = performance.now();
    await call(o, 'GET', `/v1/users/${encodeURIComponent(user)}/recommendations?limit=10`);
    if (i >= warmup) times.push(performance.now() - began);
  }
  const p50Ms = percentile(times, 50);
  const p99Ms = percentile(times, 99);
  const training = Object.fromEntries(
    Object.entries(trained).map(([kind, run]) => [
      kind,
      { ms: Number(run.durationMs), rows: run.rows, evaluation: run.evaluation },
    ]),
  );
  const ms = (v: number) => `${Math.round(v * 10) / 10} ms`;
  return {
    figures: {
      training,
      untrained,
      recommendations: {
        calls,
        users: users.length,
        p50Ms,
        p99Ms,
        goalMs: recommendationsGoalMs,
        goalMet: p99Ms < recommendationsGoalMs,
      },
    },
    table: [
      ...Object.entries(training).map(([kind, t]): [string, string] => [
        `training: ${kind}`,
        untrained[kind] !== undefined
          ? `not trained: ${untrained[kind]}`
          : `${(t.ms / 1000).toFixed(1)} s, ${String(t.rows)} rows; held out: ${heldOut(t.evaluation)}`,
      ]),
      ['GET /v1/users/:id/recommendations p50', ms(p50Ms)],
      ['GET /v1/users/:id/recommendations p99 (goal < 100 ms)', ms(p99Ms)],
    ],
  };
}

/** An evaluation as `auc 0.97 (recency 0.95)`, each metric beside its baseline's. */
function heldOut(evaluation: unknown): string {
  const e = evaluation as
    { baseline: string; metrics: Record<string, { model: number; baseline: number }> } | undefined;
  if (!e) return 'no evaluation';
  return Object.entries(e.metrics)
    .map(([name, m]) => `${name} ${m.model} (${e.baseline} ${m.baseline})`)
    .join(', ');
}
