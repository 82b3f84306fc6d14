/**
 * HyperLogLog with 2^14 registers (relative standard error 1.04/√16384 = 0.81%), exact while
 * small: up to `sparseLimit` distinct 32-bit hashes are kept in a Set (error only from hash
 * collisions), then folded into dense registers. Mergeable either way.
 */
const precision = 14;
const registers = 1 << precision;
const sparseLimit = 1024;
const maxRank = 32 - precision + 1;

export const hllRelativeError = 1.04 / Math.sqrt(registers);

export interface Hll {
  sparse: Set<number> | undefined;
  dense: Uint8Array | undefined;
}

export const createHll = (): Hll => ({ sparse: new Set(), dense: undefined });

export function hllAdd(hll: Hll, value: string): void {
  const hash = hashString(value);
  if (hll.sparse) {
    hll.sparse.add(hash);
    if (hll.sparse.size > sparseLimit) densify(hll);
  } else {
    setRegister(hll.dense!, hash);
  }
}

export function hllMerge(into: Hll, from: Hll): void {
  if (from.sparse) {
    for (const hash of from.sparse) {
      if (into.sparse) into.sparse.add(hash);
      else setRegister(into.dense!, hash);
    }
    if (into.sparse && into.sparse.size > sparseLimit) densify(into);
    return;
  }
  if (into.sparse) densify(into);
  const target = into.dense!;
  const source = from.dense!;
  for (let i = 0; i < registers; i++) if (source[i]! > target[i]!) target[i] = source[i]!;
}

export function hllCount(hll: Hll): number {
  if (hll.sparse) return hll.sparse.size;
  // Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
  // sketches", 2017): the classic raw estimate with a linear-counting switch at 2.5 × 2^14 is
  // biased by about +2.5% near 40,000 distinct values; this one is unbiased at every size.
  const histogram = new Array<number>(maxRank + 1).fill(0);
  for (const rank of hll.dense!) histogram[rank]! += 1;
  let z = registers * tau(1 - histogram[maxRank]! / registers);
  for (let k = maxRank - 1; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
  z += registers * sigma(histogram[0]! / registers);
  return Math.round((registers * registers) / (2 * Math.LN2) / z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}

function densify(hll: Hll): void {
  const dense = new Uint8Array(registers);
  for (const hash of hll.sparse!) setRegister(dense, hash);
  hll.sparse = undefined;
  hll.dense = dense;
}

function setRegister(dense: Uint8Array, hash: number): void {
  const index = hash >>> (32 - precision);
  // Rank of the first set bit in the remaining 18 bits (1-based); all zero gives 19.
  const rest = (hash << precision) >>> 0;
  const rank = rest === 0 ? maxRank : Math.clz32(rest) + 1;
  if (rank > dense[index]!) dense[index] = rank;
}

/** MurmurHash3 (x86, 32-bit) over UTF-16 code units, seed 0. */
export function hashString(value: string): number {
  let h = 0;
  const length = value.length;
  let i = 0;
  for (; i + 1 < length; i += 2) {
    let k = value.charCodeAt(i) | (value.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < length) {
    let k = value.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
