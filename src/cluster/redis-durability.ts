import type { Redis } from 'ioredis';
import type { ClusterSettings } from '../config/schema.js';
import type { Logger } from '../ops/logger.js';

export type RedisDurability = ClusterSettings['redisDurability'];

export interface DurabilityReport {
  appendonly: string | undefined;
  appendfsync: string | undefined;
  /** False when CONFIG is disabled (managed Redis): the settings could not be read. */
  verified: boolean;
  durable: boolean;
}

/** Why Redis was refused at start: `not-durable` (it said so) or `unverifiable` (CONFIG disabled). */
export class RedisDurabilityError extends Error {
  constructor(
    readonly reason: 'not-durable' | 'unverifiable',
    message: string,
  ) {
    super(message);
    this.name = 'RedisDurabilityError';
  }
}

const requirement =
  'in cluster mode an ack is durable only if Redis runs with `appendonly yes` and `appendfsync always`';

/**
 * Checks at start that Redis fsyncs every write, which is what makes an ack durable in
 * cluster mode. `check` refuses anything else, and a Redis whose CONFIG command is disabled
 * (managed services) since nothing can be verified; `assume-always` accepts an unreadable
 * CONFIG on the operator's word but still refuses a Redis that says otherwise; `unsafe`
 * only warns.
 *
 * @example
 * await checkDurability(redis, { mode: config.cluster.redisDurability, log });
 */
export async function checkDurability(
  redis: Redis,
  options: { mode: RedisDurability; log?: Logger },
): Promise<DurabilityReport> {
  const report = await readDurability(redis);
  const { mode, log } = options;
  if (report.durable) return report;
  if (!report.verified && mode === 'assume-always') {
    log?.info('Redis CONFIG is disabled; trusting cluster.redisDurability=assume-always');
    return report;
  }
  const problem = report.verified
    ? `Redis runs with appendonly ${report.appendonly} and appendfsync ${report.appendfsync}: ${requirement}`
    : `Redis refuses CONFIG GET, so its durability cannot be checked: ${requirement}; ` +
      'set cluster.redisDurability (BACKLINE_REDIS_DURABILITY) to assume-always if your provider guarantees it';
  if (mode === 'unsafe') {
    log?.warn(`${problem} (starting anyway: cluster.redisDurability=unsafe)`);
    return report;
  }
  throw new RedisDurabilityError(
    report.verified ? 'not-durable' : 'unverifiable',
    `${problem}; or set cluster.redisDurability=unsafe to start without durable acks`,
  );
}

async function readDurability(redis: Redis): Promise<DurabilityReport> {
  let settings: Map<string, string>;
  try {
    const pairs = (await redis.config('GET', 'append*')) as string[];
    settings = new Map(pairs.flatMap((value, i) => (i % 2 === 0 ? [[value, pairs[i + 1]!]] : [])));
  } catch (err) {
    if (!isCommandRefused(err)) throw err;
    return { appendonly: undefined, appendfsync: undefined, verified: false, durable: false };
  }
  const appendonly = settings.get('appendonly');
  const appendfsync = settings.get('appendfsync');
  const durable = appendonly === 'yes' && appendfsync === 'always';
  return { appendonly, appendfsync, verified: true, durable };
}

/** A reply error from Redis (unknown or renamed command, NOPERM), not a connection failure. */
function isCommandRefused(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}
