import type { Client, Subscription } from '../client/index.js';
import { createChart } from './chart.js';
import { chartFields, chartSeries, fieldTitle, isListField } from './series.js';
import { fetchServerCounts } from './server-counts.js';
import type { StreamInfo } from './streams.js';
import { renderTopKBars } from './topk-bars.js';
import { createWindowBook } from './window-book.js';
import { renderWindowTable } from './window-table.js';

const topSeries = 8; // lines on the chart
const tableRows = 60;

export interface StreamViewElements {
  field: HTMLSelectElement;
  chart: HTMLElement;
  bars: HTMLElement;
  table: HTMLTableSectionElement;
  windowCount: HTMLElement;
  lateWithin: HTMLElement;
  tooLate: HTMLElement;
  liveDropped: HTMLElement;
}

/**
 * One stream's windows, live through `client.subscribe`: a chart of the chosen field (a time
 * series per key, or bars for a `topK` field), the windows as a table, and the stream's late
 * counts from `/metrics`. Renders at most once a frame, however many windows arrive.
 *
 * @example
 * const view = createStreamView(elements);
 * view.watch(client, streams[0]);
 */
export function createStreamView(ui: StreamViewElements) {
  const book = createWindowBook(240);
  const chart = createChart(ui.chart, {
    xTitle: 'window start (local time)',
    yTitle: '',
    height: 300,
  });
  let subscription: Subscription | undefined;
  let stream: StreamInfo | undefined;
  let pending = false;

  function render(): void {
    pending = false;
    const windows = book.list();
    const fields = chartFields(windows);
    const chosen = fields.some((f) => f.id === ui.field.value) ? ui.field.value : fields[0]?.id;
    if (ui.field.options.length !== fields.length) {
      ui.field.replaceChildren(
        ...fields.map((f) => new Option(f.label, f.id, false, f.id === chosen)),
      );
    }
    const bars = chosen !== undefined && isListField(chosen);
    const title = fieldTitle(chosen ?? '', stream?.aggregates ?? []);
    const wasHidden = ui.chart.hidden;
    ui.chart.hidden = bars;
    ui.bars.hidden = !bars;
    if (bars) renderTopKBars(ui.bars, windows, chosen, title);
    else chart.update(chartSeries(windows, chosen ?? '', topSeries), title);
    if (wasHidden && !bars) chart.resize();
    renderWindowTable(ui.table, windows.slice(-tableRows).reverse());
    ui.windowCount.textContent = String(windows.length);
  }

  const changed = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(render);
  };
  ui.field.addEventListener('change', render);

  return {
    /** Follows `info`'s windows on `client` (nothing without either), dropping the last stream's. */
    watch(client: Client | undefined, info: StreamInfo | undefined): void {
      subscription?.unsubscribe();
      subscription = undefined;
      book.clear();
      stream = info;
      if (client && info) {
        subscription = client.subscribe(
          info.name,
          undefined,
          (window) => {
            book.upsert(window);
            changed();
          },
          { last: 60 },
        );
      }
      render();
      void this.refreshCounts();
    },
    stop(): void {
      this.watch(undefined, undefined);
    },
    get watching(): string | undefined {
      return subscription ? stream?.name : undefined;
    },
    async refreshCounts(): Promise<void> {
      if (!stream) return;
      try {
        const counts = await fetchServerCounts(stream.name);
        ui.lateWithin.textContent = String(counts.lateWithin);
        ui.tooLate.textContent = String(counts.tooLate);
        ui.liveDropped.textContent = String(counts.liveDropped);
      } catch {
        // The next poll tries again; the status pill shows whether the server is there.
      }
    },
    resize: chart.resize,
  };
}
