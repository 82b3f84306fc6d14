import { randomBytes } from 'node:crypto';

/**
 * The fuzzer's randomness: xoshiro128** seeded from `crypto.randomBytes`, so a million inputs
 * cost no syscall each, and a run can be repeated from the seed it reports.
 */
export interface Random {
  readonly seed: string;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight: `[[weight, value], …]`. */
  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T;
  bytes(n: number): Buffer;
}

/** A random source from `seed` (32 hex digits), or from a fresh one. */
export function createRandom(seed = randomBytes(16).toString('hex')): Random {
  const state = new Uint32Array(16 / 4);
  Buffer.from(seed, 'hex').copy(Buffer.from(state.buffer));
  if (state.every((word) => word === 0)) state[0] = 1; // the one state xoshiro never leaves
  const nextWord = (): number => {
    const [s0, s1, s2, s3] = state as unknown as [number, number, number, number];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    state[2] = s2 ^ s0;
    state[3] = s3 ^ s1;
    state[1] = s1 ^ state[2]!;
    state[0] = s0 ^ state[3]!;
    state[2] ^= t;
    state[3] = rotl(state[3]!, 11);
    return result;
  };
  const random: Random = {
    seed,
    next: () => nextWord() / 2 ** 32,
    int: (n) => Math.floor(random.next() * n),
    chance: (p) => random.next() < p,
    pick: (items) => items[random.int(items.length)]!,
    weighted(choices) {
      const total = choices.reduce((sum, [weight]) => sum + weight, 0);
      let at = random.next() * total;
      for (const [weight, value] of choices) if ((at -= weight) < 0) return value;
      return choices[choices.length - 1]![1];
    },
    bytes(n) {
      const out = Buffer.allocUnsafe(n);
      let i = 0;
      for (; i + 4 <= n; i += 4) out.writeUInt32LE(nextWord(), i);
      for (; i < n; i++) out[i] = nextWord() & 0xff;
      return out;
    },
  };
  return random;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
