/**
 * A prop made a column by itself (analytics.autoMaterialize, issue #12): a breakdown by
 * `props.genre`, which the scenario's server does not list, is called until the server makes
 * the prop a column of `events` (each call read it out of the JSON text), then the bench
 * waits for the mutation that writes the column into the stored events and times the same
 * breakdown again.
 */
import { genreBreakdown } from './analytics-routes.js';
import { measureRoutes, seededRandom, timedGet, type RouteFigures } from './history-routes.js';
import { scrapeMetrics, sumOf } from './server-metrics.js';

export interface AutoPropFigures {
  /** The calls that read the prop out of the JSON text, in order, until it was made a column. */
  jsonCallsMs: number[];
  /** From the call that made it a column to the end of the mutation writing it (s). */
  materializeSeconds: number;
  /** The breakdown timed once the column is written. */
  after: RouteFigures;
}

const sample = async (port: number) => {
  const series = await scrapeMetrics(port);
  return (name: string, labels: Record<string, string> = {}) => sumOf(series, name, labels);
};

export async function measureAutoProp(
  target: { port: number; key: string },
  days: { start: number; end: number },
  counts: { warmup: number; calls: number },
): Promise<AutoPropFigures> {
  const before = genreBreakdown(false);
  const random = seededRandom(41);
  const made = async () =>
    (await sample(target.port))('backline_analytics_prop_columns_made_total', { outcome: 'made' });
  const jsonCallsMs: number[] = [];
  while ((await made()) < 1) {
    if (jsonCallsMs.length === 20) throw new Error('props.genre not made a column in 20 calls');
    const path = before.path(before.range(days.start, days.end, random));
    jsonCallsMs.push((await timedGet(target, path)).ms);
  }
  const started = performance.now();
  for (;;) {
    const read = await sample(target.port);
    const ready = read('backline_analytics_prop_columns', { source: 'auto', state: 'ready' });
    if (ready >= 1 && read('backline_analytics_prop_columns', { state: 'materializing' }) === 0)
      break;
    if (performance.now() - started > 600_000) throw new Error('props.genre not written in 600 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const materializeSeconds = (performance.now() - started) / 1000;
  const [after] = await measureRoutes(target, days, counts, [genreBreakdown(true)]);
  return { jsonCallsMs, materializeSeconds, after: after! };
}
