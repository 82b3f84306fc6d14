/**
 * The analytics scenario's warehouse jobs (issue #12, "job durations"): each kind defined
 * over HTTP, run on request, one at a time, and its duration read from the job's status
 * (`lastRun.durationMs`, measured by the server around the run's one INSERT … SELECT).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface JobFigures {
  job: string;
  spec: object;
  durationMs: number;
  rows: number;
  outcome: string;
}

const jobs: Array<[string, object]> = [
  ['daily_users', { kind: 'daily_users', days: 30 }],
  ['user_features', { kind: 'user_features' }],
  ['weekly_retention', { kind: 'retention', interval: 'week', periods: 8, days: 56 }],
];

interface Status {
  status?: { lastRun?: { durationMs: number; rows?: number; outcome: string; error?: string } };
}

/** Defines, runs and waits for each job in turn; throws when one fails or takes too long. */
export async function measureJobs(
  target: { port: number; key: string },
  timeoutMs = 600_000,
): Promise<JobFigures[]> {
  const call = async (method: string, path: string, body?: object) => {
    const res = await fetch(`http://127.0.0.1:${target.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.key}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as Status) : {};
  };
  const figures: JobFigures[] = [];
  for (const [job, spec] of jobs) {
    await call('PUT', `/v1/jobs/${job}`, { ...spec, everyMs: 31 * 86_400_000 });
    // A new job is due at once: the scheduler may take it before the request does (409).
    await call('POST', `/v1/jobs/${job}/run`).catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = (await call('GET', `/v1/jobs/${job}`)).status?.lastRun;
      if (last) {
        if (last.outcome !== 'ok') throw new Error(`job ${job} ${last.outcome}: ${last.error}`);
        figures.push({
          job,
          spec,
          durationMs: last.durationMs,
          rows: last.rows ?? 0,
          outcome: last.outcome,
        });
        break;
      }
      if (Date.now() > deadline) throw new Error(`job ${job} did not end in ${timeoutMs} ms`);
      await sleep(200);
    }
  }
  return figures;
}
