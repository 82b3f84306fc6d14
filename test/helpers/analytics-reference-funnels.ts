import type { EventRow } from '../../src/model/event.js';
import {
  byRankThenKey,
  identityMap,
  median,
  meets,
  personOf,
  textOf,
  type Condition,
} from './analytics-reference.js';

export interface FunnelAsk {
  project: string;
  from: number;
  to: number;
  steps: Array<{ type: string; where?: Condition[] }>;
  windowMs: number;
  breakdown?: string;
  limit?: number;
  persons?: Set<string>;
}

type Hit = { t: number; step: number; row: EventRow };

/**
 * The furthest step a person reaches: from each step-1 event, take the earliest next step
 * after the last, while within the window of the start (earliest is never worse), and keep
 * the best start. Independent of how ClickHouse's windowFunnel walks the events.
 */
function furthestStep(hits: readonly Hit[], steps: number, windowMs: number): number {
  let best = 0;
  for (const start of hits.filter((h) => h.step === 1)) {
    let level = 1;
    let last = start;
    for (const hit of hits) {
      if (level === steps) break;
      if (hit.step !== level + 1 || hit.t < last.t || hit === last) continue;
      if (hit.t > start.t + windowMs) break;
      level += 1;
      last = hit;
    }
    best = Math.max(best, level);
  }
  return best;
}

/**
 * The step times behind a level, as the API documents them: walking the hits in time order,
 * a step-1 hit starts a chain, a step-k hit extends the latest chain of step k-1 when within
 * the window of its start, and each step keeps its latest chain.
 */
function latestChains(
  hits: readonly Hit[],
  steps: number,
  windowMs: number,
): Array<number[] | null> {
  const chains: Array<number[] | null> = Array.from({ length: steps }, () => null);
  for (const hit of hits) {
    if (hit.step === 1) chains[0] = [hit.t];
    else {
      const before = chains[hit.step - 2];
      if (before && hit.t <= before[0]! + windowMs) chains[hit.step - 1] = [...before, hit.t];
    }
  }
  return chains;
}

/** Funnels by a loop: per person the step reached, then counts and medians per breakdown value. */
export function funnelReference(allRows: readonly EventRow[], ask: FunnelAsk) {
  const rows = allRows.filter((r) => r.project === ask.project);
  const map = identityMap(rows);
  const hitsOf = new Map<string, Hit[]>();
  for (const row of rows) {
    if (row.ts < ask.from || row.ts >= ask.to) continue;
    const person = personOf(row, map);
    if (person === '' || (ask.persons && !ask.persons.has(person))) continue;
    ask.steps.forEach((step, i) => {
      if (row.type !== step.type || !meets(row, step.where ?? [])) return;
      if (!hitsOf.has(person)) hitsOf.set(person, []);
      hitsOf.get(person)!.push({ t: row.ts, step: i + 1, row });
    });
  }
  const n = ask.steps.length;
  const persons: Array<{ key: string | null; level: number; chain: number[] }> = [];
  for (const hits of hitsOf.values()) {
    hits.sort((a, b) => a.t - b.t || a.step - b.step);
    const level = furthestStep(hits, n, ask.windowMs);
    if (level === 0) continue;
    const chains = latestChains(hits, n, ask.windowMs);
    if (chains.findLastIndex((c) => c !== null) + 1 !== level)
      throw new Error('reference: the latest chains disagree with the furthest step');
    const first = hits.find((h) => h.step === 1)!;
    const key = ask.breakdown ? textOf(first.row, ask.breakdown) : null;
    persons.push({ key, level, chain: chains[level - 1]! });
  }
  const groups = new Map<string | null, typeof persons>();
  for (const p of persons) groups.set(p.key, [...(groups.get(p.key) ?? []), p]);
  const ranked = [...groups].map(([key, members]) => ({ key, members, rank: members.length }));
  ranked.sort(byRankThenKey);
  const limit = ask.limit ?? 10;
  const results = ranked
    .slice(0, limit)
    .map(({ key, members }) => ({ key, other: false, members }));
  if (ranked.length > limit)
    results.push({
      key: null,
      other: true,
      members: ranked.slice(limit).flatMap((r) => r.members),
    });
  return results.map(({ key, other, members }) => ({
    key,
    other,
    counts: ask.steps.map((_, i) => members.filter((m) => m.level > i).length),
    medians: ask.steps
      .slice(1)
      .map((_, i) =>
        median(members.filter((m) => m.level > i + 1).map((m) => m.chain[i + 1]! - m.chain[i]!)),
      ),
  }));
}
