import type { PredictionStore } from '../storage/analytics/prediction-store.js';
import { figure, hitsAt, mean, type Evaluation } from './evaluation.js';
import { byPopularity, recommend, type Recommendation } from './hybrid-recommender.js';
import { itemNeighbours, type Neighbour } from './item-neighbours.js';
import type { ModelRun } from '../analytics/model-jobs.js';
import type { RecommendationSpec } from '../analytics/model-job-spec.js';

const day = 86_400_000;
/** The cut-off the evaluation reports (precision@10, recall@10). */
export const evaluationK = 10;

interface Pair {
  person: string;
  item: string;
  first: number;
}

/** What serving needs of a trained recommender: item neighbours and the trending fallback. */
export interface RecommenderModel {
  neighbours: Map<string, Neighbour[]>;
  trending: string[];
  /** Each person's items, most recent first. */
  holdings: Map<string, string[]>;
}

/** Trains on `pairs`: neighbours from co-occurrence and content, trending since `trendingFrom`. */
export function fitRecommender(
  pairs: readonly Pair[],
  attributes: ReadonlyMap<string, readonly string[]>,
  trendingFrom: number,
  spec: Pick<RecommendationSpec, 'neighbours'>,
): RecommenderModel {
  const holdings = new Map<string, Pair[]>();
  const popularity = new Map<string, number>();
  const recent = new Map<string, number>();
  for (const pair of pairs) {
    const list = holdings.get(pair.person) ?? [];
    holdings.set(pair.person, list);
    list.push(pair);
    popularity.set(pair.item, (popularity.get(pair.item) ?? 0) + 1);
    if (pair.first >= trendingFrom) recent.set(pair.item, (recent.get(pair.item) ?? 0) + 1);
  }
  const items = new Map(
    [...holdings].map(([person, list]) => [
      person,
      list.sort((a, b) => b.first - a.first).map((p) => p.item),
    ]),
  );
  const neighbours = itemNeighbours(items, attributes, popularity, {
    neighbours: spec.neighbours,
  });
  // Trending first, then the rest by all-time popularity, so the fallback is never short.
  const trending = [...new Set([...byPopularity(recent), ...byPopularity(popularity)])];
  return { neighbours, trending, holdings: items };
}

/**
 * The held-out evaluation: trained on the pairs before `cutoff`, each person with items on both
 * sides is asked for `evaluationK` items; hits are the items they took up after the cutoff. The
 * baseline recommends the most popular items the person does not have.
 */
export function evaluateRecommender(
  pairs: readonly Pair[],
  attributes: ReadonlyMap<string, readonly string[]>,
  cutoff: number,
  spec: Pick<RecommendationSpec, 'neighbours' | 'blend' | 'trendingDays'>,
): Evaluation {
  const model = fitRecommender(
    pairs.filter((p) => p.first < cutoff),
    attributes,
    cutoff - spec.trendingDays * day,
    spec,
  );
  const later = new Map<string, Set<string>>();
  for (const p of pairs)
    if (p.first >= cutoff) later.set(p.person, (later.get(p.person) ?? new Set()).add(p.item));
  const counts = new Map<string, number>();
  for (const list of model.holdings.values())
    for (const item of list) counts.set(item, (counts.get(item) ?? 0) + 1);
  const ranked = byPopularity(counts);
  const figures = { precision: [] as number[], recall: [] as number[] };
  const base = { precision: [] as number[], recall: [] as number[] };
  for (const [person, has] of model.holdings) {
    const heldOut = new Set([...(later.get(person) ?? [])].filter((i) => !has.includes(i)));
    if (heldOut.size === 0) continue;
    const options = { limit: evaluationK, blend: spec.blend };
    const recs = recommend((i) => model.neighbours.get(i), has, model.trending, options);
    const mine = hitsAt(
      recs.map((rec) => rec.item),
      heldOut,
      evaluationK,
    );
    const held = new Set(has);
    const theirs = hitsAt(
      ranked.filter((i) => !held.has(i)).slice(0, evaluationK),
      heldOut,
      evaluationK,
    );
    figures.precision.push(mine.precision);
    figures.recall.push(mine.recall);
    base.precision.push(theirs.precision);
    base.recall.push(theirs.recall);
  }
  const metric = (model: number[], baseline: number[]) => ({
    model: figure(mean(model)),
    baseline: figure(mean(baseline)),
    better: 'higher' as const,
  });
  return {
    baseline: 'popularity',
    heldOut: figures.precision.length,
    metrics: {
      [`precisionAt${evaluationK}`]: metric(figures.precision, base.precision),
      [`recallAt${evaluationK}`]: metric(figures.recall, base.recall),
    },
  };
}

/** What training reads: who took up which item when, and each item's attributes. */
export interface RecommenderInput {
  pairs: Pair[];
  attributes: Array<[string, readonly string[]]>;
  run: number;
  spec: Pick<RecommendationSpec, 'neighbours' | 'blend' | 'trendingDays' | 'holdoutDays' | 'limit'>;
}

/** What training makes: the evaluation, each person's list, the trending list, neighbours. */
export interface RecommenderOutput {
  evaluation: Evaluation;
  lists: Array<[string, Recommendation[]]>;
  trending: string[];
  neighbours: Array<[string, Neighbour[]]>;
}

/**
 * The CPU-bound part of a run, a pure function of what was read, so it can run on a worker
 * thread (recommender-thread.ts): evaluates on the last `holdoutDays` held out, then trains
 * on everything and ranks each person's top `limit` items.
 */
export function computeRecommender(input: RecommenderInput): RecommenderOutput {
  const { pairs, run, spec } = input;
  const attributes = new Map(input.attributes);
  const evaluation = evaluateRecommender(pairs, attributes, run - spec.holdoutDays * day, spec);
  const model = fitRecommender(pairs, attributes, run - spec.trendingDays * day, spec);
  const options = { limit: spec.limit, blend: spec.blend };
  const lists = [...model.holdings].map(([person, has]): [string, Recommendation[]] => [
    person,
    recommend((i) => model.neighbours.get(i), has, model.trending, options),
  ]);
  const trending = model.trending.slice(0, spec.limit);
  return { evaluation, lists, trending, neighbours: [...model.neighbours] };
}

/**
 * One run of a `recommendations` job: reads the project's items and who took them up over the
 * last `days`, has `compute` evaluate and train (a worker thread in the server, so the event
 * loop stays free), and writes each person's top `limit` items, the trending list (person '')
 * and every item's neighbours (which serve persons who came after the run).
 */
export async function trainRecommendations(
  store: PredictionStore,
  r: ModelRun<RecommendationSpec>,
  compute: (input: RecommenderInput) => Promise<RecommenderOutput>,
): Promise<{ rows: number; evaluation: Evaluation }> {
  const { spec } = r;
  const scope = {
    project: r.project,
    fromMs: r.run - spec.days * day,
    toMs: r.run,
    types: spec.types,
    item: spec.item,
  };
  const pairs = await store.holdings(scope);
  const described = { ...scope, types: [...new Set([...spec.types, ...spec.catalog])] };
  const attributes = await store.itemAttributes(described, spec.attributes);
  const out = await compute({ pairs: [...pairs], attributes: [...attributes], run: r.run, spec });
  const head = { project: r.project, job: r.job, run: r.run };
  function* lists() {
    for (const [person, recs] of out.lists)
      yield* recs.map((rec, rank) => ({ ...head, person, rank, ...rec }));
    yield* out.trending.map((item, rank) => ({
      ...{ ...head, person: '', rank, item },
      ...{ score: 0, collaborative: 0, content: 0, because: '' },
    }));
  }
  function* neighbourRows() {
    for (const [item, near] of out.neighbours)
      for (const n of near)
        yield {
          ...head,
          item,
          neighbour: n.item,
          collaborative: n.collaborative,
          content: n.content,
        };
  }
  const rows = await store.write('warehouse_recommendations', lists());
  await store.write('warehouse_item_neighbours', neighbourRows());
  return { rows, evaluation: out.evaluation };
}
