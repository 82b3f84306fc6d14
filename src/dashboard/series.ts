import type { LiveWindow } from '../client/index.js';

/**
 * A number to chart out of `values`: an aggregate that is a number (`count`, `sum`, `uniq`…),
 * one level of one (`quantiles` → `p95`), or the counts of a `topK` list (`list`).
 */
export interface ChartField {
  id: string;
  label: string;
}

/** uPlot's columns: x in seconds, one y column per series, `null` where a series has no point. */
export interface ChartData {
  names: string[];
  xs: number[];
  ys: Array<Array<number | null>>;
}

const sep = '\t'; // aggregate names are free text, but a tab in one is not worth supporting

/** Every chartable field in these windows, in the order the stream declares them. */
export function chartFields(windows: readonly LiveWindow[]): ChartField[] {
  const fields = new Map<string, string>();
  for (const window of windows) {
    for (const [name, value] of Object.entries(window.values)) {
      if (typeof value === 'number') fields.set(name, name);
      else if (Array.isArray(value)) fields.set(`${name}${sep}[]`, `${name} (top values)`);
      else if (value && typeof value === 'object') {
        for (const [sub, v] of Object.entries(value)) {
          if (typeof v === 'number') fields.set(`${name}${sep}${sub}`, `${name} ${sub}`);
        }
      }
    }
  }
  return [...fields].map(([id, label]) => ({ id, label }));
}

/**
 * One series per window key (or per top value of a `topK` field), the `topN` largest by
 * their total, over the starts of all windows.
 */
export function chartSeries(
  windows: readonly LiveWindow[],
  fieldId: string,
  topN: number,
): ChartData {
  const starts = [...new Set(windows.map((w) => w.start))].sort((a, b) => a - b);
  const points = new Map<string, Map<number, number>>();
  for (const window of windows) {
    for (const [name, y] of pointsOf(window, fieldId)) {
      const series = points.get(name) ?? new Map<number, number>();
      series.set(window.start, y);
      points.set(name, series);
    }
  }
  const total = (series: Map<number, number>) => [...series.values()].reduce((s, y) => s + y, 0);
  const top = [...points].sort(([, a], [, b]) => total(b) - total(a)).slice(0, topN);
  return {
    names: top.map(([name]) => name),
    xs: starts.map((start) => start / 1000),
    ys: top.map(([, series]) => starts.map((start) => series.get(start) ?? null)),
  };
}

function pointsOf(window: LiveWindow, fieldId: string): Array<[string, number]> {
  const [name = '', sub] = fieldId.split(sep);
  const value = window.values[name];
  const group = window.key === '' ? '' : window.key;
  if (sub === '[]') {
    if (!Array.isArray(value)) return [];
    return value.flatMap((entry: { value?: unknown; count?: unknown }) =>
      typeof entry?.count === 'number'
        ? [[group ? `${group} · ${String(entry.value)}` : String(entry.value), entry.count]]
        : [],
    );
  }
  const y = sub === undefined ? value : (value as Record<string, unknown> | undefined)?.[sub];
  return typeof y === 'number' ? [[group || 'all', y]] : [];
}
