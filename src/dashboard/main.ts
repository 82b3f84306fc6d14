/**
 * The dashboard page: pick a stream of the key's project and watch its windows live, as a
 * chart (one series per key, the largest few) and a table; beside them, one user's in-app
 * notifications. It is the client library's first user: everything live comes through
 * `subscribe` and `inbox`.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { createClient, type Client, type Subscription } from '../client/index.js';
import { createChart } from './chart.js';
import { createNotificationPanel } from './notification-panel.js';
import { chartFields, chartSeries } from './series.js';
import { fetchServerCounts } from './server-counts.js';
import { describeStream, fetchStreams } from './streams.js';
import { createWindowBook } from './window-book.js';
import { renderWindowTable } from './window-table.js';

const topSeries = 8; // lines on the chart
const tableRows = 60;
const countsEveryMs = 2000;
const defaultUser = 'demo-fan'; // the demo's user (src/demo/demo-fan.ts)

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  form: $<HTMLFormElement>('controls'),
  key: $<HTMLInputElement>('key'),
  stream: $<HTMLSelectElement>('stream'),
  field: $<HTMLSelectElement>('field'),
  status: $('status'),
  message: $('message'),
  windowCount: $('window-count'),
  lateWithin: $('late-within'),
  tooLate: $('late-dropped'),
  liveDropped: $('live-dropped'),
  table: $<HTMLTableElement>('windows').tBodies[0]!,
  user: $<HTMLInputElement>('user'),
};
const book = createWindowBook(240);
const chart = createChart($('chart'));
const panel = createNotificationPanel({
  list: $<HTMLOListElement>('inbox'),
  unread: $('unread-count'),
  markAll: $<HTMLButtonElement>('mark-all-read'),
  message: $('inbox-message'),
});
let client: Client | undefined;
let subscription: Subscription | undefined;
let pending = false;

function say(text: string): void {
  ui.message.textContent = text;
  ui.message.hidden = text === '';
}

function remember(): void {
  const params = new URLSearchParams({ key: ui.key.value.trim() });
  if (ui.stream.value) params.set('stream', ui.stream.value);
  if (ui.user.value.trim() !== defaultUser) params.set('user', ui.user.value.trim());
  history.replaceState(null, '', `?${params}`);
}

/** Loads the key's streams and opens a client for it. */
async function useKey(wanted = ui.stream.value): Promise<void> {
  subscription = undefined;
  panel.close();
  client?.close();
  client = undefined;
  book.clear();
  render();
  const key = ui.key.value.trim();
  if (!key) return say('Enter a project key with the read scope.');
  try {
    const streams = await fetchStreams(key);
    ui.stream.replaceChildren(
      ...streams.map((s) => new Option(describeStream(s), s.name, false, s.name === wanted)),
    );
    // Nothing to keep in localStorage: the panel loads each user's newest page itself.
    client = createClient({ key, storage: null, onError: (e) => say(`${e.code}: ${e.msg}`) });
    void openPanel();
    if (streams.length === 0) return say('This project has no metric streams yet.');
    say('');
    watch();
  } catch (err) {
    ui.stream.replaceChildren();
    say(`The key was refused (${(err as Error).message}).`);
  }
}

function openPanel(): Promise<void> {
  remember();
  return client ? panel.open(client, ui.key.value.trim(), ui.user.value.trim()) : Promise.resolve();
}

function watch(): void {
  subscription?.unsubscribe();
  book.clear();
  remember();
  subscription = client?.subscribe(
    ui.stream.value,
    undefined,
    (window) => {
      book.upsert(window);
      changed();
    },
    { last: 60 },
  );
  render();
  void refreshCounts();
}

/** Renders at most once a frame, however many windows arrive. */
function changed(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(render);
}

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
  chart.update(chartSeries(windows, chosen ?? '', topSeries));
  renderWindowTable(ui.table, windows.slice(-tableRows).reverse());
  ui.windowCount.textContent = String(windows.length);
}

async function refreshCounts(): Promise<void> {
  if (!ui.stream.value) return;
  try {
    const counts = await fetchServerCounts(ui.stream.value);
    ui.lateWithin.textContent = String(counts.lateWithin);
    ui.tooLate.textContent = String(counts.tooLate);
    ui.liveDropped.textContent = String(counts.liveDropped);
  } catch {
    // The next poll tries again; the status pill shows whether the server is there.
  }
}

function showStatus(): void {
  const live = client?.stats().liveConnected ?? false;
  ui.status.dataset.state = live ? 'live' : client ? 'error' : 'idle';
  ui.status.textContent = live ? 'live' : client ? 'reconnecting…' : 'not connected';
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  void useKey();
});
ui.key.addEventListener('change', () => void useKey());
ui.stream.addEventListener('change', watch);
ui.user.addEventListener('change', () => void openPanel());
// Enter in the user field commits it (`change`); the form itself has nothing to submit.
$('inbox-controls').addEventListener('submit', (event) => event.preventDefault());
ui.field.addEventListener('change', render);
setInterval(() => void refreshCounts(), countsEveryMs);
setInterval(showStatus, 500);

const params = new URLSearchParams(location.search);
ui.key.value = params.get('key') ?? '';
ui.user.value = params.get('user') ?? defaultUser;
void useKey(params.get('stream') ?? undefined);
