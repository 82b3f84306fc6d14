import uPlot from 'uplot';
import type { ChartData } from './series.js';

const palette = [
  '#3c6df0',
  '#e8590c',
  '#2f9e44',
  '#ae3ec9',
  '#f08c00',
  '#1098ad',
  '#e03131',
  '#5c940d',
  '#7048e8',
  '#868e96',
];

export interface ChartOptions {
  /** Axis titles with units, drawn as text beside the plot. */
  xTitle: string;
  yTitle: string;
  /** Plot height in CSS pixels. */
  height: number;
  /** Dates in UTC on the x axis and in the legend, as the analytics count buckets. */
  utc?: boolean;
}

/**
 * A uPlot time chart in `element`, with axis titles, a legend of each series' latest value
 * (the hovered one under the cursor), and open windows hatched as provisional. uPlot cannot
 * change its series in place, so a new set of series names makes a new plot; new points on the
 * same series only replace the data. `data-series`, `data-points`, `data-x-min` and
 * `data-x-max` (epoch ms, the drawn x axis) on the element say what is drawn.
 *
 * @example
 * const chart = createChart(document.getElementById('chart')!, { xTitle: 'window start', yTitle: 'votes', height: 300 });
 * chart.update(chartSeries(book.list(), 'votes', 8));
 */
export function createChart(element: HTMLElement, options: ChartOptions) {
  const yTitle = axisTitle('y', options.yTitle);
  const xTitle = axisTitle('x', options.xTitle);
  const body = document.createElement('div');
  body.className = 'plot';
  element.replaceChildren(yTitle, body);
  let plot: uPlot | undefined;
  let drawn = '';
  let current: ChartData = { names: [], xs: [], ys: [] };
  const size = () => ({ width: Math.max(300, body.clientWidth), height: options.height });
  const resize = () => plot?.setSize(size());
  window.addEventListener('resize', resize);

  const onDraw = (u: uPlot) => {
    element.dataset.xMin = String(Math.round((u.scales.x!.min ?? 0) * 1000));
    element.dataset.xMax = String(Math.round((u.scales.x!.max ?? 0) * 1000));
    drawProvisional(u, current.provisional ?? []);
  };

  return {
    update(data: ChartData, title = options.yTitle): void {
      current = data;
      yTitle.textContent = title;
      element.dataset.series = String(data.names.length);
      element.dataset.points = String(data.ys.flat().filter((y) => y !== null).length);
      const columns: uPlot.AlignedData = [data.xs, ...data.ys];
      // A series' style is fixed when its plot is made: a new style makes a new plot too.
      const names = data.names.join('\n') + JSON.stringify(data.styles ?? []);
      if (plot && names === drawn) return plot.setData(columns);
      plot?.destroy();
      drawn = names;
      plot = new uPlot(
        plotOptions(data, size(), () => current, onDraw, options.utc ?? false),
        columns,
        body,
      );
      // Between the axis and the legend, where a reader looks for it.
      plot.root.querySelector('.u-wrap')?.after(xTitle);
    },
    /** After the chart was hidden: uPlot measures its width only when told. */
    resize,
  };
}

function axisTitle(axis: 'x' | 'y', text: string): HTMLElement {
  const title = document.createElement('div');
  title.className = `axis-title ${axis}`;
  title.textContent = text;
  return title;
}

function plotOptions(
  first: ChartData,
  size: { width: number; height: number },
  data: () => ChartData,
  onDraw: (u: uPlot) => void,
  utc: boolean,
): uPlot.Options {
  const time = utc ? utcClock : clock;
  return {
    ...size,
    ...(utc ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') } : {}),
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: (_u, min, max) => data().xRange ?? [min, max] },
      y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    series: [
      { label: 'time', value: (u, v, _s, idx) => time(idx === null ? lastOf(u.data[0]) : v) },
      ...first.names.map((label, i) => ({
        label,
        stroke: palette[(first.styles?.[i]?.color ?? i) % palette.length]!,
        ...(first.styles?.[i]?.dashed ? { dash: [6, 4] } : {}),
        width: 2,
        points: { show: true, size: 6 },
        // Off the plot, the legend shows each series' latest value instead of nothing.
        value: (u: uPlot, v: number | null, s: number, idx: number | null) =>
          number(idx === null ? lastOf(u.data[s]!) : v),
      })),
    ],
    hooks: { draw: [onDraw] },
  };
}

/** Hatched boxes over the open windows, in uPlot's overlay so they follow its scale. */
function drawProvisional(u: uPlot, spans: ReadonlyArray<[number, number]>): void {
  for (const old of u.over.querySelectorAll('.provisional')) old.remove();
  const width = u.over.clientWidth;
  for (const [start, end] of spans) {
    const left = Math.max(0, u.valToPos(start, 'x'));
    const right = Math.min(width, u.valToPos(end, 'x'));
    if (right <= left) continue;
    const box = document.createElement('div');
    box.className = 'provisional';
    box.dataset.start = String(Math.round(start * 1000));
    box.style.left = `${left}px`;
    box.style.width = `${right - left}px`;
    box.title = 'open window: its values are provisional until it is final';
    box.textContent = 'provisional';
    u.over.append(box);
  }
}

function lastOf(column: ArrayLike<number | null | undefined>): number | null {
  for (let i = column.length - 1; i >= 0; i--) if (column[i] != null) return column[i]!;
  return null;
}

const number = (v: number | null) => (v === null ? '–' : String(Math.round(v * 100) / 100));
/** `2026-01-05 14:00 UTC`. */
const utcClock = (seconds: number | null) =>
  seconds === null
    ? '–'
    : `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const clock = (seconds: number | null) =>
  seconds === null
    ? '–'
    : new Date(seconds * 1000).toLocaleTimeString(undefined, { hour12: false });
