/**
 * A fuzz worker process, forked by `fuzz-fleet.ts` with `--import tsx`: runs its share of
 * the hostile inputs over every lane at once, then reports its tally and its valid events.
 * Exits when done, when the runner goes away, or at its deadline plus a margin.
 */
import { hostileTokens, signJwt, type FuzzCredentials } from './fuzz-credentials.js';
import type { FrameLimits } from './fuzz-frames.js';
import { runHandshakes } from './fuzz-handshakes.js';
import { runHttpLanes, type Route } from './fuzz-http.js';
import {
  ingestProfile,
  liveProfile,
  runLane,
  userProfile,
  type StreamNames,
  type Target,
  type WorkerContext,
} from './fuzz-lanes.js';
import { createRandom } from './fuzz-random.js';
import { runRawHttp } from './fuzz-raw-http.js';
import { emptyTally, total, type Tally } from './fuzz-tally.js';
import { createValidEvents, type ValidReport } from './fuzz-valid.js';

export interface WorkerConfig {
  worker: number;
  runId: string;
  seed: string;
  port: number;
  creds: FuzzCredentials;
  routes: Route[];
  streams: StreamNames;
  limits: Record<'ingest' | 'live' | 'user', FrameLimits>;
  budgets: Record<Target, number>;
  /** Connections or request loops per target at once. */
  lanes: Record<'ingest' | 'live' | 'user' | 'http' | 'handshake', number>;
  durationMs: number;
}

export type WorkerMessage =
  | { t: 'progress'; inputs: number }
  | { t: 'done'; tally: Tally; valid: ValidReport }
  | { t: 'failed'; message: string };

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) =>
    process.send ? process.send(message, undefined, undefined, () => resolve()) : resolve(),
  );
}

async function run(config: WorkerConfig): Promise<void> {
  setTimeout(() => process.exit(4), config.durationMs + 60_000).unref();
  const random = createRandom(config.seed);
  const tally = emptyTally();
  const userLanes = Math.max(config.lanes.user, config.lanes.live);
  const laneUser = (lane: number) => `fuzz-user-${config.runId}-w${config.worker}-l${lane}`;
  const laneJwts = await Promise.all(
    Array.from({ length: userLanes }, (_, lane) => signJwt(config.creds.jwt, laneUser(lane))),
  );
  const ctx: WorkerContext = {
    ...{ port: config.port, creds: config.creds, random, tally, streams: config.streams },
    valid: createValidEvents(config.runId, config.worker, random),
    budgets: { ...config.budgets },
    limits: config.limits,
    laneJwts,
    laneOptions: { window: 256, stallMs: 60_000, connectTimeoutMs: 30_000 },
    deadline: Date.now() + config.durationMs,
  };
  const tokens = await hostileTokens(config.creds);
  const progress = setInterval(
    () => void send({ t: 'progress', inputs: total(tally.inputs) }),
    2000,
  );
  const lanes = (n: number, start: (lane: number) => Promise<void>) =>
    Array.from({ length: n }, (_, lane) => start(lane));
  await Promise.all([
    ...lanes(config.lanes.ingest, () => runLane(ctx, () => ingestProfile(ctx))),
    ...lanes(config.lanes.live, (lane) => runLane(ctx, () => liveProfile(ctx, lane))),
    ...lanes(config.lanes.user, (lane) => runLane(ctx, () => userProfile(ctx, lane))),
    runHttpLanes(ctx, config.routes, config.lanes.http),
    runHandshakes(ctx, tokens, config.lanes.handshake),
    runRawHttp(ctx, 16),
  ]);
  // Valid batches refused or lost at the very end: sent until acknowledged or out of time.
  while (ctx.valid.pending() > 0 && Date.now() < ctx.deadline)
    await runLane(ctx, () => ingestProfile(ctx));
  clearInterval(progress);
  await send({ t: 'done', tally, valid: ctx.valid.report() });
  process.exit(0);
}

process.on('message', (message: { t: 'run'; config: WorkerConfig }) => {
  if (message.t !== 'run') return;
  run(message.config).catch(async (err: unknown) => {
    await send({
      t: 'failed',
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
void send({ t: 'progress', inputs: 0 });
