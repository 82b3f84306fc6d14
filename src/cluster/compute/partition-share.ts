/** What the balancer read: the live nodes and who holds each partition's lease. */
export interface ShareSample {
  /** The registry's live node ids. */
  live: readonly string[];
  /** The holder of each partition's lease (index = partition); undefined when free. */
  holders: ReadonlyArray<string | undefined>;
}

export interface Share {
  /** floor(partitions / live nodes): no node should hold fewer. */
  lo: number;
  /** ceil(partitions / live nodes): no node should hold more. */
  hi: number;
  /** Another live node holds fewer than `lo`: free partitions are its to take first. */
  othersBelow: boolean;
  /** Partitions to hand over now to bring the nodes below `lo` up (0 when none). */
  excess: number;
}

/**
 * The fair share of `me`, given the sample and how many partitions `me` holds now. Every node
 * ends between `lo` and `hi` (16 over 3 nodes: 5, 5 and 6), and a node only hands
 * partitions over when another live node is below `lo`: a difference of one is left alone,
 * so the shares do not flap. The nodes above `lo` split what the nodes below it lack (less
 * the partitions already free, which those take), in proportion to their excess, so two of
 * them do not each give up the whole amount.
 *
 * @example
 * fairShare({ live: ['a', 'b', 'c'], holders }, 'a', 8); // with b at 8, c at 0: { lo: 5, hi: 6, othersBelow: true, excess: 3 }
 */
export function fairShare(sample: ShareSample, me: string, mine: number): Share {
  const live = new Set(sample.live).add(me);
  const partitions = sample.holders.length;
  const lo = Math.floor(partitions / live.size);
  const hi = Math.ceil(partitions / live.size);
  const counts = new Map<string, number>([...live].map((node) => [node, 0]));
  let free = 0;
  for (const holder of sample.holders) {
    if (holder === undefined || !counts.has(holder)) free++;
    else if (holder !== me) counts.set(holder, counts.get(holder)! + 1);
  }
  counts.set(me, mine);
  let lacking = 0;
  let surplus = 0;
  for (const [node, count] of counts) {
    if (node !== me && count < lo) lacking += lo - count;
    if (count > lo) surplus += count - lo;
  }
  const owed = lacking - free;
  const excess =
    mine > lo && owed > 0 ? Math.min(mine - lo, Math.ceil((owed * (mine - lo)) / surplus)) : 0;
  return { lo, hi, othersBelow: lacking > 0, excess };
}

/**
 * Whether a node holding `mine` partitions should try to take a free one: below `lo` always;
 * below `hi` when no other node is below `lo` (they go first), or when the partition has
 * been free for the grace time (a node below its share that cannot take it must not leave a
 * partition without an owner).
 */
export function wantsPartition(share: Share, mine: number, freeLongEnough: boolean): boolean {
  if (mine < share.lo) return true;
  return mine < share.hi && (!share.othersBelow || freeLongEnough);
}
