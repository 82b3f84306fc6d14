import type { BenchOptions } from './options.js';
import { startCpuSample, type CpuSample } from './proc-stats.js';
import type { ServerProcess } from './server-process.js';
import { runWsLoad, type WsLoadResult } from './ws-load.js';

export interface ServerLoad {
  load: WsLoadResult;
  /** The server's CPU over the measured window. */
  cpu: CpuSample | undefined;
  /** Server CPU per event acknowledged in the window, all threads and the main thread. */
  cpuMicrosPerEvent: number;
  mainThreadMicrosPerEvent: number;
}

/**
 * The closed-loop ingest load of ingest-ws (options' connections, frame size and window)
 * against `server`, with the server's CPU read over the measured window, so configurations
 * compare by CPU per event as well as by events/s.
 *
 * @example
 * const { load, mainThreadMicrosPerEvent } = await loadServer(server, options, 10);
 */
export async function loadServer(
  server: ServerProcess,
  options: BenchOptions,
  groups?: number,
  measureMs = options.measureSeconds * 1000,
): Promise<ServerLoad> {
  let sample: ReturnType<typeof startCpuSample> | undefined;
  let cpu: CpuSample | undefined;
  const load = await runWsLoad({
    url: `ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}`,
    connections: options.connections,
    eventsPerFrame: options.eventsPerFrame,
    inflight: options.inflight,
    warmupMs: options.warmupSeconds * 1000,
    measureMs,
    drainTimeoutMs: 10_000,
    connectTimeoutMs: 10_000,
    ...(groups ? { groups } : {}),
    onMeasure: (phase) => {
      if (phase === 'start') sample = startCpuSample(server.pid);
      else cpu = sample?.read();
    },
  });
  const perEvent = (seconds: number | undefined) =>
    seconds === undefined || load.acceptedEvents === 0
      ? NaN
      : (seconds / load.acceptedEvents) * 1e6;
  return {
    load,
    cpu,
    cpuMicrosPerEvent: perEvent(cpu?.cpuSeconds),
    mainThreadMicrosPerEvent: perEvent(cpu?.mainThreadSeconds),
  };
}
