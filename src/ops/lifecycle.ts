import type { Logger } from './logger.js';

/** A long-lived part of the server (Centrifugo's `Service`). */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts services in order and stops them in reverse, so a part is never stopped before
 * the parts that feed it. A stop that throws is logged and the rest still stop.
 *
 * @example
 * const life = createLifecycle(log);
 * await life.start([storage, writer, server]); // stop(): server, writer, storage
 */
export function createLifecycle(log: Logger) {
  const started: Service[] = [];
  let running = false;
  let stopping = false;
  return {
    async start(services: readonly Service[]): Promise<void> {
      for (const service of services) {
        await service.start();
        started.push(service);
        log.debug({ service: service.name }, 'started');
      }
      running = !stopping;
    },
    /** True once every service started, until the stop begins: the server is ready. */
    running: (): boolean => running,
    async stop(): Promise<void> {
      running = false;
      stopping = true;
      while (started.length > 0) {
        const service = started.pop()!;
        try {
          await service.stop();
          log.debug({ service: service.name }, 'stopped');
        } catch (err) {
          log.error({ err, service: service.name }, 'stop failed');
        }
      }
    },
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;

export const defaultShutdownOptions = {
  timeoutMs: 15_000, // the whole stop; past it the process exits with code 1
  signals: ['SIGTERM', 'SIGINT'] as readonly NodeJS.Signals[],
};

/**
 * The shutdown sequence: on the first of `signals` (also during the start), every started
 * service stops in reverse order — the server drains ingest, the pipeline completes, then
 * the writers flush — under `timeoutMs`, and the process exits: 0 when all stopped, 1 when
 * time ran out. Answers a function that removes the signal handlers.
 *
 * @example
 * shutdownOnSignals(lifecycle, log, { timeoutMs: config.shutdownTimeoutMs });
 * await lifecycle.start(services);
 */
export function shutdownOnSignals(
  lifecycle: Pick<Lifecycle, 'stop'>,
  log: Logger,
  options: Partial<typeof defaultShutdownOptions> = {},
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  const { timeoutMs, signals } = { ...defaultShutdownOptions, ...options };
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      log.info({ signal }, 'shutting down: flushing every buffer');
      const timer = setTimeout(() => {
        log.error({ timeoutMs }, 'shutdown timed out');
        exit(1);
      }, timeoutMs);
      await lifecycle.stop();
      clearTimeout(timer);
      log.info('stopped');
      exit(0);
    })();
  };
  for (const signal of signals) process.on(signal, shutdown);
  return () => {
    for (const signal of signals) process.off(signal, shutdown);
  };
}
