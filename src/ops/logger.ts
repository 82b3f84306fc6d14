import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; `LOG_LEVEL` picks the level. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'backline' } });
}
