import { randomUUID } from 'node:crypto';
import type { Logger } from '../ops/logger.js';
import type { Service } from '../ops/lifecycle.js';
import { plainSealer, type Sealer } from './sealer.js';
import { sortableTime, type StateStore } from './state-store.js';

export const defaultTimerOptions = {
  checkEveryMs: 250, // how often due timers are looked for
  batch: 500, // timers handled per check at most
  maxScan: 5000, // due timers looked at per check at most, those that fail or have no handler included
};

export interface Timer<P = unknown> {
  id: string;
  kind: string;
  dueAt: number;
  payload: P;
}

export type TimerHandler = (timer: Timer) => Promise<void>;

/**
 * Persistent timers: kept in the StateStore under `timer/<dueAt>/<id>`, so a timer whose
 * time passes while the server is down fires once after the restart. A timer is deleted
 * only after its handler succeeded (at least once); handlers make repeats harmless with
 * de-duplication keys. A failing handler is retried at the next check. Payloads carry users'
 * data (notifications, events' props): they are sealed when an encryption key is set, and
 * a payload no key opens is counted and left for a later check, like a failing handler.
 *
 * @example
 * timers.on('schedule', async (t) => fire(t.payload));
 * await timers.schedule('schedule', Date.now() + 3600_000, { rule: 'reminder', user: 'u1' });
 */
export function createTimers(
  state: StateStore,
  log: Logger,
  options: Partial<typeof defaultTimerOptions> = {},
  sealer: Sealer = plainSealer,
) {
  const opts = { ...defaultTimerOptions, ...options };
  const handlers = new Map<string, TimerHandler>();
  let interval: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  /** True when the timer's handler ran and the timer is gone. */
  async function fire(key: string, timer: Timer): Promise<boolean> {
    const handler = handlers.get(timer.kind);
    if (!handler) return false;
    try {
      await handler({ ...timer, payload: sealer.open(timer.payload, payloadContext(key)) });
      await state.del(key);
      return true;
    } catch (err) {
      log.warn(
        { err, timer: timer.id, kind: timer.kind },
        'timer handler failed; retrying at the next check',
      );
      return false;
    }
  }

  async function fireDue(now = Date.now()): Promise<number> {
    const before = `timer/${sortableTime(now + 1)}`;
    let fired = 0;
    let scanned = 0;
    let after: string | undefined;
    // A timer that fails (or no key opens) stays due: the check pages past it, so such timers
    // cannot hold back the ones due after them.
    while (fired < opts.batch && scanned < opts.maxScan) {
      const limit = Math.min(opts.batch - fired, opts.maxScan - scanned);
      const page = await state.list<Timer>('timer/', {
        before,
        limit,
        ...(after ? { after } : {}),
      });
      for (const [key, timer] of page) if (await fire(key, timer)) fired += 1;
      scanned += page.length;
      if (page.length < limit) break;
      after = page.at(-1)![0];
    }
    return fired;
  }

  const service: Service = {
    name: 'timers',
    async start() {
      interval = setInterval(() => {
        running ??= fireDue()
          .then(() => undefined)
          .catch((err: unknown) => log.error({ err }, 'timer check failed'))
          .finally(() => (running = undefined));
      }, opts.checkEveryMs);
    },
    async stop() {
      clearInterval(interval);
      await running;
    },
  };

  return {
    ...service,
    on(kind: string, handler: TimerHandler): void {
      handlers.set(kind, handler);
    },
    /** `id` makes scheduling idempotent: the same id and time is one timer. */
    async schedule<P>(
      kind: string,
      dueAt: number,
      payload: P,
      id: string = randomUUID(),
    ): Promise<Timer<P>> {
      const timer: Timer<P> = { id, kind, dueAt, payload };
      const key = `timer/${sortableTime(dueAt)}/${id}`;
      await state.put(key, { ...timer, payload: sealer.seal(payload, payloadContext(key)) });
      return timer;
    },
    async cancel(dueAt: number, id: string): Promise<void> {
      await state.del(`timer/${sortableTime(dueAt)}/${id}`);
    },
    fireDue,
  };
}

export type Timers = ReturnType<typeof createTimers>;

const payloadContext = (key: string) => `${key}#payload`;
