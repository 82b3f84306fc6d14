import type { LiveWindow } from '../client/index.js';
import type { AggregateInfo } from './streams.js';

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
  /** The x axis, in seconds: from the first window's start to the last one's end. */
  xRange?: [number, number];
  /** `[start, end]` in seconds of each window not final yet: drawn hatched, as provisional. */
  provisional?: Array<[number, number]>;
  /** Per series: its palette colour (default its position) and whether it is dashed. */
  styles?: Array<{ color: number; dashed: boolean }>;
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

/** A `topK` field: its windows are shown as bars (value → count), not as a time series. */
export const isListField = (fieldId: string) => fieldId.endsWith(`${sep}[]`);

/** The aggregate a field id comes from, and its level (`p95`, `[]` for a list) if any. */
export function splitField(fieldId: string): { name: string; sub: string | undefined } {
  const [name = '', sub] = fieldId.split(sep);
  return { name, sub };
}

/** The y axis title with its unit: `scans (events)`, `load_ms p95 (of props.ms)`. */
export function fieldTitle(fieldId: string, aggregates: readonly AggregateInfo[]): string {
  const { name, sub } = splitField(fieldId);
  const spec = aggregates.find((a) => a.name === name);
  const label = sub && sub !== '[]' ? `${name} ${sub}` : name;
  if (!spec) return label;
  if (spec.fn === 'count' || spec.fn === 'topK') return `${label} (events)`;
  if (spec.fn === 'uniq') return `${label} (distinct ${spec.field ?? 'values'})`;
  if (spec.fn === 'quantiles') return `${label} (of ${spec.field ?? 'values'})`;
  return `${label} (${spec.fn} of ${spec.field ?? 'values'})`;
}

/**
 * One series per window key, the `topN` largest by their total, over the starts of all
 * windows; the x axis spans the windows (one window alone spans itself, not uPlot's default
 * of a thousand days), and open windows are marked provisional.
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
  const open = new Map(windows.filter((w) => !w.final).map((w) => [w.start, w.end]));
  return {
    names: top.map(([name]) => name),
    xs: starts.map((start) => start / 1000),
    ys: top.map(([, series]) => starts.map((start) => series.get(start) ?? null)),
    ...(windows.length > 0 ? { xRange: xRangeOf(windows) } : {}),
    provisional: [...open].map(([start, end]) => [start / 1000, end / 1000]),
  };
}

function xRangeOf(windows: readonly LiveWindow[]): [number, number] {
  let [min, max] = [Infinity, -Infinity];
  for (const w of windows) [min, max] = [Math.min(min, w.start), Math.max(max, w.end)];
  return [min / 1000, max / 1000];
}

function pointsOf(window: LiveWindow, fieldId: string): Array<[string, number]> {
  const { name, sub } = splitField(fieldId);
  const value = window.values[name];
  const y = sub === undefined ? value : (value as Record<string, unknown> | undefined)?.[sub];
  return typeof y === 'number' ? [[window.key || 'all', y]] : [];
}

/** One bar of a `topK` field: `key · value` (or the value alone without grouping) → count. */
export interface Bar {
  label: string;
  count: number;
}

/** The newest start's windows of a `topK` field as bars, largest first, at most `topN`. */
export function topValueBars(
  windows: readonly LiveWindow[],
  fieldId: string,
  topN: number,
): { windows: LiveWindow[]; bars: Bar[] } {
  const { name } = splitField(fieldId);
  const withList = windows.filter((w) => Array.isArray(w.values[name]));
  const newest = Math.max(...withList.map((w) => w.start));
  const shown = withList.filter((w) => w.start === newest);
  const bars = shown.flatMap((w) =>
    (w.values[name] as Array<{ value?: unknown; count?: unknown }>).flatMap((entry) =>
      typeof entry?.count === 'number'
        ? [{ label: (w.key ? `${w.key} · ` : '') + String(entry.value), count: entry.count }]
        : [],
    ),
  );
  return { windows: shown, bars: bars.sort((a, b) => b.count - a.count).slice(0, topN) };
}
