import { getJson, type Trend, type TrendSeries } from './analytics-api.js';
import { amount, bucketLabel, seriesName } from './analytics-format.js';
import { lastDays, type Interval } from './analytics-range.js';
import { createChart } from './chart.js';
import { showError, showMessage } from './page-message.js';
import type { ChartData } from './series.js';
import { fillTypes } from './type-options.js';

/**
 * The trends page: a measure (events, distinct persons, or the sum or average of a prop) per
 * hour, day or week over the last days, from `GET /v1/analytics/trends`; with a breakdown, the
 * top N values and the rest as `other`; with the comparison, the previous period drawn dashed
 * in its series' colour, bucket for bucket. A table under the chart holds every number
 * (`data-bucket` rows, `data-series` cells) and the totals over the range.
 *
 * @example
 * const trends = createTrendsView(document.getElementById('trends')!);
 * trends.open(key);
 */
export function createTrendsView(root: HTMLElement) {
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const form = $<HTMLFormElement>('tr-form');
  const event = $<HTMLSelectElement>('tr-event');
  const measure = $<HTMLSelectElement>('tr-measure');
  const prop = $<HTMLInputElement>('tr-prop');
  const interval = $<HTMLSelectElement>('tr-interval');
  const range = $<HTMLSelectElement>('tr-range');
  const breakdown = $<HTMLInputElement>('tr-breakdown');
  const limit = $<HTMLInputElement>('tr-limit');
  const compare = $<HTMLInputElement>('tr-compare');
  const message = $('tr-message');
  const table = $<HTMLTableElement>('tr-table');
  const chartElement = $('tr-chart');
  const chart = createChart(chartElement, {
    xTitle: 'bucket start (UTC)',
    yTitle: '',
    height: 260,
    utc: true,
  });
  let key = '';
  let asked = 0; // a later request wins over one still waiting

  const showProp = () => {
    $('tr-prop-control').hidden = measure.value !== 'sum' && measure.value !== 'avg';
  };

  async function load(): Promise<void> {
    const ask = ++asked;
    const every = interval.value as Interval;
    const usesProp = !$('tr-prop-control').hidden;
    const by = breakdown.value.trim();
    const query = {
      ...lastDays(Number(range.value), every),
      interval: every,
      event: event.value || undefined,
      measure: measure.value,
      prop: usesProp ? prop.value.trim() : undefined,
      breakdown: by || undefined,
      limit: by ? limit.value : undefined,
      compare: compare.checked ? 'previous' : undefined,
    };
    try {
      const trend = await getJson<Trend>('/v1/analytics/trends', key, query);
      if (ask === asked) render(trend);
    } catch (err) {
      if (ask !== asked) return;
      show(false);
      showError(message, err);
    }
  }

  function show(numbers: boolean): void {
    chartElement.hidden = !numbers;
    table.hidden = !numbers;
  }

  function render(trend: Trend): void {
    Object.assign(root.dataset, {
      from: `${trend.from}`,
      to: `${trend.to}`,
      interval: trend.interval,
    });
    const empty = trend.series.every((s) => s.values.every((v) => !v) && !s.total);
    show(!empty);
    showMessage(message, empty ? 'No events match in this range.' : '');
    if (empty) return;
    chart.update(chartData(trend), `${measureTitle()} per ${trend.interval}`);
    chart.resize();
    renderTable(table, trend);
  }

  function measureTitle(): string {
    const of = prop.value.trim();
    return {
      count: 'events',
      users: 'distinct persons',
      sum: `sum of ${of}`,
      avg: `average of ${of}`,
    }[measure.value]!;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  form.addEventListener('change', () => {
    showProp();
    void load();
  });
  showProp();

  return {
    open(withKey: string, types: readonly string[]): void {
      key = withKey;
      fillTypes(event, types, [['', 'any event']]);
      void load();
    },
    resize: chart.resize,
  };
}

/** Each series, and with a comparison its previous period on the same buckets, dashed. */
function chartData(trend: Trend): ChartData {
  const current = trend.series.map((s, i) => ({ name: nameOf(trend, s), values: s.values, i }));
  const previous = (trend.previous?.series ?? []).map((s, i) => ({
    name: `${nameOf(trend, s)} · previous`,
    values: s.values,
    i,
  }));
  const all = [...current, ...previous];
  return {
    names: all.map((s) => s.name),
    xs: trend.buckets.map((t) => t / 1000),
    ys: all.map((s) => s.values),
    xRange: [trend.from / 1000, trend.to / 1000],
    styles: all.map((s, n) => ({ color: s.i, dashed: n >= current.length })),
  };
}

/** A row per bucket, a column per series; the range's totals, and the previous period's. */
function renderTable(table: HTMLTableElement, trend: Trend): void {
  const head = document.createElement('tr');
  const th = (text: string) => (head.appendChild(document.createElement('th')).textContent = text);
  th(`${trend.interval} (UTC)`);
  trend.series.forEach((s) => th(nameOf(trend, s)));
  const row = (label: string, values: Array<number | null>, data: Record<string, string>) => {
    const tr = document.createElement('tr');
    Object.assign(tr.dataset, data);
    tr.insertCell().textContent = label;
    values.forEach((v, i) => {
      const td = tr.insertCell();
      td.dataset.series = String(i);
      td.textContent = amount(v);
    });
    return tr;
  };
  const rows = trend.buckets.map((bucket, b) =>
    row(
      bucketLabel(bucket, trend.interval),
      trend.series.map((s) => s.values[b] ?? null),
      { bucket: String(bucket) },
    ),
  );
  rows.push(
    row(
      'total',
      trend.series.map((s) => s.total),
      { total: 'current' },
    ),
  );
  if (trend.previous)
    rows.push(
      row(
        'previous period',
        trend.previous.series.map((s) => s.total),
        { total: 'previous' },
      ),
    );
  table.tHead!.replaceChildren(head);
  table.tBodies[0]!.replaceChildren(...rows);
}

/** A series by its breakdown value; the one series without a breakdown is `all`. */
const nameOf = (trend: Trend, series: TrendSeries) =>
  trend.breakdown === null ? 'all' : seriesName(series);
