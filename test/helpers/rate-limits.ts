import { configSchema } from '../../src/compose/config.js';
import type { Limits } from '../../src/config/schema.js';
import { createMemoryRateLimiter } from '../../src/limits/memory-rate-limiter.js';
import { createRateLimiters, type RateLimiters } from '../../src/transport/rate-limits.js';

/** The per-key and per-user limiters main.ts wires, with the default `limits` unless given. */
export function memoryRateLimits(limits: Limits = configSchema.parse({}).limits): RateLimiters {
  return createRateLimiters(limits, (limit) => createMemoryRateLimiter(limit));
}
