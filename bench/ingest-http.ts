import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { contentTypes, createBodyMaker, type BodyFormat } from './http-bodies.js';
import { byCode, count, ms } from './number-format.js';
import type { BenchOptions } from './options.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { describeServer, type ServerSettings } from './server-process.js';
import { withServer } from './with-server.js';

const name = 'ingest-http';
const formats: BodyFormat[] = ['msgpack', 'json'];
// The HTTP route's batches of one key share a connection-sized bucket (100k events/s by
// default) and the key's own (1M): lifted so the figures show what the server can take, not
// the limits it was configured with.
const settings: ServerSettings = {
  limits: { eventsPerSecond: 1e9, burstEvents: 1e9, keyEventsPerSecond: 1e9, keyBurstEvents: 1e9 },
};

/**
 * `POST /v1/events` under autocannon (its programmatic API, in the runner's process), once with
 * MessagePack bodies and once with JSON, each body of fresh event ids.
 */
export const ingestHttp: Scenario = { name, loads: formats.length, run: runIngestHttp };

async function runIngestHttp(options: BenchOptions): Promise<ScenarioResult> {
  const commands = [
    describeServer(settings),
    `autocannon (programmatic) POST /v1/events, ${options.connections} connections, ` +
      `${options.eventsPerFrame} events per body, msgpack then JSON`,
  ];
  return withServer(name, settings, commands, async (server) => {
    const url = `http://127.0.0.1:${server.port}/v1/events?key=${server.key}`;
    const runs = [];
    for (const format of formats) {
      await post(url, format, options, options.warmupSeconds); // discarded: JIT, first parts
      runs.push({ format, ...(await post(url, format, options, options.measureSeconds)) });
    }
    const ok = server.alive() && runs.every((run) => run.accepted > 0);
    const failure = ok
      ? undefined
      : `nothing accepted or server died:\n${server.logTail().join('\n')}`;
    return { ok, failure, figures: { settings, runs }, table: table(runs) };
  });
}

/** One autocannon run; the answers' counts are read as they arrive. */
async function post(url: string, format: BodyFormat, options: BenchOptions, seconds: number) {
  const answers = { accepted: 0, duplicates: 0, rejected: 0, unreadable: 0 };
  const nextBody = createBodyMaker(format, options.eventsPerFrame, randomBytes(4).toString('hex'));
  const cpuAtStart = process.cpuUsage();
  const result = await autocannon({
    url,
    method: 'POST',
    connections: options.connections,
    duration: seconds,
    headers: { 'content-type': contentTypes[format] },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: nextBody() }),
        onResponse: (status, body) => status === 200 && tallyAnswer(answers, body),
      },
    ],
  });
  const cpu = process.cpuUsage(cpuAtStart);
  const perSecond = (n: number) => Math.round(n / result.duration);
  return {
    seconds: result.duration,
    requestsPerSecond: perSecond(result.requests.total),
    eventsPerSecond: perSecond(answers.accepted),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]),
    ),
    errors: result.errors,
    timeouts: result.timeouts,
    // autocannon runs in this process: its CPU shows whether the generator kept up.
    generatorCpuPercent: Math.round(((cpu.user + cpu.system) / 1e4 / result.duration) * 10) / 10,
    ...answers,
  };
}

type Answers = { accepted: number; duplicates: number; rejected: number; unreadable: number };

// A JSON answer of a few dozen bytes per 100 events: cheap enough to read them all.
function tallyAnswer(answers: Answers, body: string): void {
  try {
    const answer = JSON.parse(body) as {
      accepted?: unknown;
      duplicates?: unknown;
      rejected?: unknown;
    };
    answers.accepted += Number(answer.accepted) || 0;
    answers.duplicates += Number(answer.duplicates) || 0;
    answers.rejected += Array.isArray(answer.rejected) ? answer.rejected.length : 0;
  } catch {
    answers.unreadable += 1;
  }
}

type Run = { format: BodyFormat } & Awaited<ReturnType<typeof post>>;

function table(runs: Run[]): ScenarioResult['table'] {
  return runs.flatMap((run) => {
    const label = run.format === 'json' ? 'JSON' : 'msgpack';
    return [
      [`**${label}**: requests/s`, count(run.requestsPerSecond)],
      [`${label}: events/s accepted`, count(run.eventsPerSecond)],
      [
        `${label}: latency p50 / p99 / max (autocannon, 1 ms resolution)`,
        `${ms(run.latencyMs.p50)} / ${ms(run.latencyMs.p99)} / ${ms(run.latencyMs.max)}`,
      ],
      [
        `${label}: events accepted / duplicates / rejected`,
        `${count(run.accepted)} / ${count(run.duplicates)} / ${count(run.rejected)}`,
      ],
      [`${label}: non-2xx answers`, `${count(run.non2xx)} (${byCode(nonOk(run.statusCodes))})`],
      [`${label}: socket errors / timeouts`, `${count(run.errors)} / ${count(run.timeouts)}`],
      [`${label}: autocannon CPU (100 % = one core)`, `${run.generatorCpuPercent.toFixed(1)} %`],
    ] satisfies ScenarioResult['table'];
  });
}

function nonOk(statusCodes: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(statusCodes).filter(([code]) => !code.startsWith('2')));
}
