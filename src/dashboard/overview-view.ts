import { createChart } from './chart.js';
import type { Overview, Scope } from './overview-api.js';

const historySeconds = 300; // the charts' trailing span
const shownOutcomes = ['sent', 'delivered', 'failed'];

/**
 * The first page: the project's numbers from `GET /v1/overview`, as tiles (ingest rate and
 * total, ack latency, rejected events and frame errors by code), two live charts of the last
 * five minutes of readings, and tables of late events per stream and notifications per
 * channel. Each figure is labelled with its scope as the server states it: "this project" or
 * "server-wide".
 *
 * @example
 * const overview = createOverviewView(document.getElementById('overview')!);
 * overview.show(await fetchOverview(key));
 */
export function createOverviewView(root: HTMLElement) {
  const $ = (id: string) => root.querySelector<HTMLElement>(`#${id}`)!;
  const time = { xTitle: 'time (local)', height: 180 };
  const rateChart = createChart($('ov-rate-chart'), { ...time, yTitle: 'events/s' });
  const ackChart = createChart($('ov-ack-chart'), { ...time, yTitle: 'ack latency (ms)' });
  let history: Overview[] = [];

  function showCharts(): void {
    const xs = history.map((o) => o.at / 1000);
    const last = xs.at(-1) ?? Date.now() / 1000;
    // A minute at first, growing with the readings up to the history kept.
    const xRange: [number, number] = [Math.min(last - 60, xs[0] ?? last), last];
    const events = history.map((o) => o.events);
    rateChart.update(
      { names: ['events/s'], xs, ys: [events.map((e) => e.perSecond)], xRange },
      `events/s (${scopeLabel(events.at(-1)?.scope ?? 'project')})`,
    );
    const acks = history.map((o) => o.ack);
    ackChart.update(
      {
        names: ['p50', 'p99'],
        xs,
        ys: [acks.map((a) => a.p50Ms), acks.map((a) => a.p99Ms)],
        xRange,
      },
      `ack latency, ms (${scopeLabel(acks.at(-1)?.scope ?? 'server')})`,
    );
  }

  return {
    show(overview: Overview): void {
      history = [...history.filter((o) => o.at > overview.at - historySeconds * 1000), overview];
      renderNumbers($, overview);
      showCharts();
    },
    clear(): void {
      history = [];
      showCharts();
    },
    resize(): void {
      rateChart.resize();
      ackChart.resize();
    },
  };
}

/** The tiles and tables: every figure of the overview, with its scope. */
function renderNumbers($: (id: string) => HTMLElement, overview: Overview): void {
  const text = (id: string, value: string) => ($(id).textContent = value);
  const scope = (id: string, of: Scope) => {
    $(id).dataset.scope = of;
    $(id).querySelector('.scope')!.textContent = scopeLabel(of);
  };
  const { events, ack, rejected, frameErrors, late, notifications } = overview;
  text('ov-since', new Date(overview.since).toLocaleString(undefined, { hour12: false }));
  text('ov-window', seconds(overview.rateWindowMs));
  text('ov-rate', decimal(events.perSecond, 1));
  text('ov-accepted', String(events.accepted));
  scope('ov-events', events.scope);
  text('ov-ack-p50', decimal(ack.p50Ms, 1));
  text('ov-ack-p99', decimal(ack.p99Ms, 1));
  text('ov-ack-frames', String(ack.frames ?? 0));
  scope('ov-ack', ack.scope);
  text('ov-rejected', String(rejected.total));
  renderCodes($('ov-rejected-codes'), rejected.byCode);
  scope('ov-rejected-tile', rejected.scope);
  text('ov-frame-errors', String(frameErrors.total));
  renderCodes($('ov-frame-codes'), frameErrors.byCode);
  scope('ov-frame-errors-tile', frameErrors.scope);
  text('ov-late-scope', scopeLabel(late.scope, 'by stream name'));
  renderRows($('ov-late'), late.byStream, (c) => [c.within, c.tooLate]);
  text('ov-notifications-scope', scopeLabel(notifications.scope));
  renderRows($('ov-notifications'), notifications.byChannel, (outcomes) => [
    ...shownOutcomes.map((o) => outcomes[o] ?? 0),
    Object.entries(outcomes)
      .filter(([o]) => !shownOutcomes.includes(o))
      .reduce((sum, [, n]) => sum + n, 0),
  ]);
}

function scopeLabel(scope: Scope, detail?: string): string {
  if (scope === 'project') return 'this project';
  return detail ? `server-wide, ${detail}` : 'server-wide';
}

/** `<li data-code="MISSING_FIELD"><code>MISSING_FIELD</code> 3</li>`, largest first. */
function renderCodes(list: HTMLElement, byCode: Record<string, number>): void {
  const items = Object.entries(byCode)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([code, n]) => {
      const item = document.createElement('li');
      item.dataset.code = code;
      item.append(Object.assign(document.createElement('code'), { textContent: code }), ` ${n}`);
      return item;
    });
  list.replaceChildren(...items);
}

/** One row per name: the name, then its numbers; `data-name` on each row. */
function renderRows<T>(table: HTMLElement, rows: Record<string, T>, cells: (row: T) => number[]) {
  const body = (table as HTMLTableElement).tBodies[0]!;
  body.replaceChildren(
    ...Object.entries(rows).map(([name, row]) => {
      const tr = document.createElement('tr');
      tr.dataset.name = name;
      for (const value of [label(name), ...cells(row).map(String)])
        tr.insertCell().textContent = value;
      return tr;
    }),
  );
}

/** The decision log's `none` channel holds what was decided before a channel: inbox only, … */
const label = (name: string) => (name === 'none' ? 'none (inbox only)' : name);
const decimal = (v: number | null, digits: number) => (v === null ? '–' : v.toFixed(digits));
const seconds = (ms: number | null) => (ms === null ? '–' : (ms / 1000).toFixed(1));
