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

/**
 * A uPlot time chart in `element`. uPlot cannot change its series in place, so a new set of
 * series names makes a new plot; new points on the same series only replace the data.
 * `data-series` and `data-points` on the element say what is drawn.
 *
 * @example
 * const chart = createChart(document.getElementById('chart')!);
 * chart.update(chartSeries(book.list(), 'votes', 8));
 */
export function createChart(element: HTMLElement) {
  let plot: uPlot | undefined;
  let drawn = '';
  const size = () => ({ width: Math.max(320, element.clientWidth - 16), height: 300 });
  window.addEventListener('resize', () => plot?.setSize(size()));

  return {
    update(data: ChartData): void {
      element.dataset.series = String(data.names.length);
      element.dataset.points = String(data.ys.flat().filter((y) => y !== null).length);
      const columns: uPlot.AlignedData = [data.xs, ...data.ys];
      const names = data.names.join('\n');
      if (plot && names === drawn) return plot.setData(columns);
      plot?.destroy();
      drawn = names;
      plot = new uPlot(options(data.names, size()), columns, element);
    },
  };
}

function options(names: string[], size: { width: number; height: number }): uPlot.Options {
  return {
    ...size,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      // One window alone would otherwise be spread over years of axis.
      x: { time: true, range: (_u, min, max) => (min === max ? [min - 10, max + 10] : [min, max]) },
      y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
    },
    series: [
      {},
      ...names.map((label, i) => ({
        label,
        stroke: palette[i % palette.length]!,
        width: 2,
        points: { show: true, size: 6 },
      })),
    ],
  };
}
