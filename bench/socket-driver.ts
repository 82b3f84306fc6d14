import { sleep, waitUntil } from './deadline.js';
import { createFrameEncoder } from './event-frames.js';
import type { RunCommand, SendMode, WorkerReport } from './fleet-protocol.js';
import type { IngestClient } from './ingest-client.js';
import { createRunTally, type RunTally } from './run-tally.js';

interface Driven {
  client: IngestClient;
  encode(seq: number): Uint8Array;
  nextSeq: number;
  /** Send time (`performance.now()`) of each unacknowledged frame, by seq. */
  sentAt: Map<number, number>;
  pausedUntil: number;
}

/** What the reply handler and the senders share during one run. */
interface Run {
  mode: SendMode;
  tally: RunTally;
  sending: boolean;
  send(s: Driven): void;
}

// A retryAfterMs hint is obeyed, but never for longer than this, so a bad hint cannot stall
// a socket for the rest of the run.
const maxPauseMs = 1000;
// The paced sender's clock: fine enough to spread sends, coarse enough to cost nothing idle.
const tickMs = 10;

/**
 * Drives the first `activeSockets` of a worker's open sockets through one run: waits for
 * `startAt`, sends for the warm-up and the measured window, then drains for at most
 * `drainTimeoutMs`. Stops by itself; returns the worker's report.
 */
export async function driveSockets(
  clients: readonly IngestClient[],
  firstIndex: number,
  cmd: RunCommand,
): Promise<WorkerReport> {
  const startPerf = performance.now() + (cmd.startAt - Date.now());
  const window = { start: startPerf + cmd.warmupMs, end: startPerf + cmd.warmupMs + cmd.measureMs };
  const sockets = clients.slice(0, cmd.activeSockets).map((client, i) => ({
    client,
    // Unique per run and socket, so the server's de-duplication stays out of the figures.
    encode: createFrameEncoder(`${cmd.runId}-${firstIndex + i}-`, cmd.eventsPerFrame),
    nextSeq: 0,
    sentAt: new Map<number, number>(),
    pausedUntil: 0,
  }));
  const run = createRun(cmd, createRunTally(window));
  for (const s of sockets) {
    s.client.onMessage((msg) => onReply(run, s, msg));
    void s.client.closed.then(() => run.sending && run.tally.error('CLOSED'));
  }

  await sleep(startPerf - performance.now());
  run.sending = true;
  const ticker = run.mode.kind === 'paced' ? pace(run, sockets, startPerf) : undefined;
  for (const s of sockets) fill(run, s);
  await sleep(window.start - performance.now());
  const cpuAtStart = process.cpuUsage();
  await sleep(window.end - performance.now());
  const cpu = process.cpuUsage(cpuAtStart);
  run.sending = false;
  clearInterval(ticker);

  const drained = () => sockets.every((s) => s.sentAt.size === 0 || !s.client.isOpen());
  await waitUntil(drained, cmd.drainTimeoutMs);
  for (const s of sockets) s.client.onMessage(() => undefined);
  return run.tally.report({
    unacked: sockets.reduce((sum, s) => sum + s.sentAt.size, 0),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    openSockets: clients.filter((client) => client.isOpen()).length,
    closedSockets: closedByCode(clients),
  });
}

function closedByCode(clients: readonly IngestClient[]): Record<string, number> {
  const closed: Record<string, number> = {};
  for (const client of clients) {
    if (client.isOpen()) continue;
    const code = `closed_${client.closeCode() ?? 'closing'}`;
    closed[code] = (closed[code] ?? 0) + 1;
  }
  return closed;
}

function createRun(cmd: RunCommand, tally: RunTally): Run {
  return {
    mode: cmd.mode,
    tally,
    sending: false,
    send(s) {
      const at = performance.now();
      const frame = s.encode(s.nextSeq);
      s.sentAt.set(s.nextSeq, at);
      s.client.send(frame);
      s.nextSeq += 1;
      tally.sent(cmd.eventsPerFrame, at);
    },
  };
}

function onReply(run: Run, s: Driven, msg: Record<string, unknown> | undefined): void {
  const seq = typeof msg?.seq === 'number' ? msg.seq : undefined;
  const sentAt = seq === undefined ? undefined : s.sentAt.get(seq);
  if (seq !== undefined) s.sentAt.delete(seq);
  if (msg?.t === 'ack') run.tally.ack(msg, sentAt);
  else if (msg?.t === 'error') {
    run.tally.error(String(msg.code));
    if (typeof msg.retryAfterMs === 'number') pause(run, s, msg.retryAfterMs);
  } else run.tally.error(msg ? 'UNEXPECTED_MESSAGE' : 'UNDECODABLE_MESSAGE');
  fill(run, s);
}

function pause(run: Run, s: Driven, ms: number): void {
  const pauseMs = Math.min(ms, maxPauseMs);
  s.pausedUntil = performance.now() + pauseMs;
  // A closed-loop socket with nothing outstanding gets no reply to wake it: a timer does.
  setTimeout(() => fill(run, s), pauseMs);
}

/** Closed loop: keeps `inflight` frames outstanding on the socket. */
function fill(run: Run, s: Driven): void {
  if (run.mode.kind !== 'window') return;
  while (run.sending && s.client.isOpen() && s.sentAt.size < run.mode.inflight) {
    if (performance.now() < s.pausedUntil) return;
    run.send(s);
  }
}

/**
 * Open loop: every socket sends `framesPerSecond`, round robin, whether or not acks keep up,
 * except that a socket with `maxOutstanding` frames unacknowledged skips its turn (counted),
 * which bounds the generator's memory when the server falls behind.
 */
function pace(run: Run, sockets: Driven[], startPerf: number): NodeJS.Timeout | undefined {
  if (run.mode.kind !== 'paced' || sockets.length === 0) return undefined;
  const { framesPerSecond, maxOutstanding } = run.mode;
  const perMs = (framesPerSecond * sockets.length) / 1000;
  let issued = 0;
  let cursor = 0;
  return setInterval(() => {
    const now = performance.now();
    const dueNow = Math.floor((now - startPerf) * perMs);
    // At most one turn per socket per tick, so a stalled event loop cannot burst.
    const turns = Math.min(dueNow - issued, sockets.length);
    issued = dueNow;
    for (let i = 0; i < turns; i += 1) {
      const s = sockets[cursor]!;
      cursor = (cursor + 1) % sockets.length;
      const ready = s.client.isOpen() && s.sentAt.size < maxOutstanding;
      if (ready && now >= s.pausedUntil) run.send(s);
      else run.tally.skipped(now);
    }
  }, tickMs);
}
