import type { PredictionStore, SeriesDay } from '../storage/analytics/prediction-store.js';
import { figure, mean, meanAbsoluteError, type Evaluation } from './evaluation.js';
import type { ModelRun } from '../analytics/model-jobs.js';
import type { ForecastSpec } from '../analytics/model-job-spec.js';
import { naivePoints, seasonalForecast } from './seasonal-forecast.js';

const day = 86_400_000;
const startOfDay = (ms: number) => Math.floor(ms / day) * day;

/** Each series' daily values over [fromMs, fromMs + days·day), missing days 0. */
function dense(rows: readonly SeriesDay[], fromMs: number, days: number) {
  const series = new Map<string, number[]>();
  for (const row of rows) {
    const i = Math.round((Date.parse(`${row.day}T00:00:00Z`) - fromMs) / day);
    if (i < 0 || i >= days) continue;
    const values = series.get(row.series) ?? new Array<number>(days).fill(0);
    series.set(row.series, values);
    values[i] = Number(row.value);
  }
  return series;
}

/** All shows' events per day together: the weekly shape each show's sparse series borrows. */
function showsTogether(series: ReadonlyMap<string, readonly number[]>): number[] | undefined {
  let total: number[] | undefined;
  for (const [name, values] of series) {
    if (name === 'dau') continue;
    total = total ? total.map((v, i) => v + values[i]!) : [...values];
  }
  return total;
}

/** A series' forecast: a show's with the shape of all shows together (seasonal-forecast.ts). */
function forecastOf(
  name: string,
  values: readonly number[],
  pooled: readonly number[] | undefined,
  horizon: number,
  coverage: number,
) {
  const shape = name !== 'dau' && pooled ? pooled.slice(0, values.length) : undefined;
  return seasonalForecast(values, horizon, coverage, shape ? { shape } : {});
}

/**
 * The held-out evaluation: each series' last `horizonDays` days forecast from the days before,
 * the mean absolute error next to the naive forecast's (the last day repeated), for DAU and
 * averaged over the shows, and the share of held-out days inside the interval.
 */
export function evaluateForecasts(
  series: ReadonlyMap<string, readonly number[]>,
  spec: ForecastSpec,
): Evaluation {
  const pooled = showsTogether(series);
  const h = spec.horizonDays;
  const errors = { dau: [] as number[][], show: [] as number[][] };
  let inside = 0;
  let days = 0;
  for (const [name, values] of series) {
    const fit = values.slice(0, -h);
    const actual = values.slice(-h);
    const forecast = forecastOf(name, fit, pooled, h, spec.coverage);
    const pair = [
      meanAbsoluteError(
        forecast.map((f) => f.value),
        actual,
      ),
      meanAbsoluteError(naivePoints(fit, h), actual),
    ];
    (name === 'dau' ? errors.dau : errors.show).push(pair);
    forecast.forEach((f, i) => (inside += f.low <= actual[i]! && actual[i]! <= f.high ? 1 : 0));
    days += h;
  }
  const metric = (pairs: number[][]) => ({
    model: figure(mean(pairs.map((p) => p[0]!))),
    baseline: figure(mean(pairs.map((p) => p[1]!))),
    better: 'lower' as const,
  });
  return {
    baseline: 'naive',
    heldOut: days,
    metrics: {
      dauMae: metric(errors.dau),
      ...(errors.show.length ? { showMae: metric(errors.show) } : {}),
      // The baseline's figure here is the coverage asked for.
      intervalCoverage: {
        model: figure(days ? inside / days : 0),
        baseline: spec.coverage,
        better: 'higher',
      },
    },
  };
}

/**
 * One run of a `forecast` job: daily active users and each busiest show's daily events over the
 * `historyDays` whole days before the run's day, evaluated on the last `horizonDays` held out,
 * then forecast for the `horizonDays` days from the run's day on (seasonal-forecast.ts).
 */
export async function trainForecasts(
  store: PredictionStore,
  r: ModelRun<ForecastSpec>,
): Promise<{ rows: number; evaluation: Evaluation }> {
  const { spec } = r;
  const today = startOfDay(r.run);
  const scope = { project: r.project, fromMs: today - spec.historyDays * day, toMs: today };
  const shows = { types: spec.showTypes, field: spec.show, top: spec.shows };
  const found = await store.dailySeries(scope, spec.shows > 0 ? shows : undefined);
  const series = dense(found, scope.fromMs, spec.historyDays);
  if (!series.has('dau')) series.set('dau', new Array<number>(spec.historyDays).fill(0));
  const evaluation = evaluateForecasts(series, spec);
  const pooled = showsTogether(series);
  const head = { project: r.project, job: r.job, run: r.run };
  function* rows() {
    for (const [name, values] of series) {
      const forecast = forecastOf(name, values, pooled, spec.horizonDays, spec.coverage);
      yield* forecast.map((f, i) => ({
        ...{ ...head, series: name, day: new Date(today + i * day).toISOString().slice(0, 10) },
        ...{ value: figure(f.value), low: figure(f.low), high: figure(f.high) },
      }));
    }
  }
  return { rows: await store.write('warehouse_forecasts', rows()), evaluation };
}
