/** Options shared by every scenario; argv flags override the defaults or the `--quick` preset. */
export interface BenchOptions {
  quick: boolean;
  connections: number;
  eventsPerFrame: number;
  /** Unacknowledged frames a connection may have outstanding. */
  inflight: number;
  measureSeconds: number;
  /** Run before measuring; its samples are discarded (JIT, chdb caches, first batches). */
  warmupSeconds: number;
}

export const defaultOptions: BenchOptions = {
  quick: false,
  connections: 50,
  eventsPerFrame: 100,
  inflight: 4,
  measureSeconds: 10,
  warmupSeconds: 2,
};

// CI smoke preset: proves the path works end to end in seconds; its figures mean little.
const quickOptions: Partial<BenchOptions> = {
  quick: true,
  connections: 5,
  measureSeconds: 2,
  warmupSeconds: 0.5,
};

const numericFlags = {
  '--connections': { key: 'connections', min: 1, max: 20_000, integer: true },
  '--events': { key: 'eventsPerFrame', min: 1, max: 100_000, integer: true },
  '--inflight': { key: 'inflight', min: 1, max: 10_000, integer: true },
  '--seconds': { key: 'measureSeconds', min: 0.1, max: 3600, integer: false },
} as const;

type NumericOption = (typeof numericFlags)[keyof typeof numericFlags]['key'];

export class OptionsError extends Error {}

/**
 * Reads `--quick`, `--connections N`, `--events N`, `--seconds N` and `--inflight N`.
 * Explicit flags win over `--quick` whatever their order.
 *
 * @example
 * parseOptions(['--quick', '--connections', '8']); // 8 connections, quick durations
 */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const explicit: Partial<Pick<BenchOptions, NumericOption>> = {};
  let quick = false;
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i]!;
    if (flag === '--quick') {
      quick = true;
      continue;
    }
    const spec = numericFlags[flag as keyof typeof numericFlags];
    if (!spec) throw new OptionsError(`unknown option ${flag}`);
    const value = Number(argv[i + 1]);
    i += 1;
    const valid = Number.isFinite(value) && (!spec.integer || Number.isInteger(value));
    if (!valid || value < spec.min || value > spec.max) {
      throw new OptionsError(`${flag} takes a number from ${spec.min} to ${spec.max}`);
    }
    explicit[spec.key] = value;
  }
  return { ...defaultOptions, ...(quick ? quickOptions : {}), ...explicit };
}
