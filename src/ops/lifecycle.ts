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
  return {
    async start(services: readonly Service[]): Promise<void> {
      for (const service of services) {
        await service.start();
        started.push(service);
        log.debug({ service: service.name }, 'started');
      }
    },
    async stop(): Promise<void> {
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
