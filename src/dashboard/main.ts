/**
 * The dashboard page. Its first view, the overview, shows the key's project at a glance from
 * `GET /v1/overview`, polled every second; the stream view picks a stream of the project and
 * watches its windows live, as a chart and a table; beside both, one user's in-app
 * notifications. It is the client library's first user: everything live comes through
 * `subscribe` and `inbox`. `?key=` opens the overview, `?key=&stream=` that stream's view.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import './analytics.css';
import { createClient, type Client } from '../client/index.js';
import { analyticsViews, createAnalyticsPages, type AnalyticsView } from './analytics-views.js';
import { createNotificationPanel } from './notification-panel.js';
import { fetchOverview } from './overview-api.js';
import { createOverviewView } from './overview-view.js';
import { createStreamView } from './stream-view.js';
import { describeStream, fetchStreams, type StreamInfo } from './streams.js';

const overviewEveryMs = 1000;
const countsEveryMs = 2000;
const defaultUser = 'demo-fan'; // the demo's user (src/demo/demo-fan.ts)
type View = 'overview' | 'stream' | AnalyticsView;
const isAnalytics = (name: string | null): name is AnalyticsView =>
  (analyticsViews as readonly string[]).includes(name ?? '');

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  form: $<HTMLFormElement>('controls'),
  key: $<HTMLInputElement>('key'),
  stream: $<HTMLSelectElement>('stream'),
  tabs: [...document.querySelectorAll<HTMLButtonElement>('.tabs button')],
  overview: $('overview'),
  streamView: $('stream-view'),
  status: $('status'),
  message: $('message'),
  user: $<HTMLInputElement>('user'),
};
const overview = createOverviewView(ui.overview);
const streamView = createStreamView({
  field: $<HTMLSelectElement>('field'),
  chart: $('chart'),
  bars: $('bars'),
  table: $<HTMLTableElement>('windows').tBodies[0]!,
  windowCount: $('window-count'),
  lateWithin: $('late-within'),
  tooLate: $('late-dropped'),
  liveDropped: $('live-dropped'),
});
const panel = createNotificationPanel({
  list: $<HTMLOListElement>('inbox'),
  unread: $('unread-count'),
  markAll: $<HTMLButtonElement>('mark-all-read'),
  message: $('inbox-message'),
});
const pages = createAnalyticsPages(() => remember());
let client: Client | undefined;
let streams: StreamInfo[] = [];
let view: View = 'overview';
let polling = false;
let overviewAnswered = false; // the overview's last poll was answered

function say(text: string): void {
  ui.message.textContent = text;
  ui.message.hidden = text === '';
}

function remember(): void {
  const params = new URLSearchParams({ key: ui.key.value.trim() });
  if (view === 'stream' && ui.stream.value) params.set('stream', ui.stream.value);
  if (isAnalytics(view)) params.set('view', view);
  if (view === 'profile' && pages.person) params.set('person', pages.person);
  if (ui.user.value.trim() !== defaultUser) params.set('user', ui.user.value.trim());
  history.replaceState(null, '', `?${params}`);
}

/** Loads the key's streams and opens a client for it. */
async function useKey(wanted = ui.stream.value): Promise<void> {
  panel.close();
  streamView.stop();
  client?.close();
  client = undefined;
  streams = [];
  overview.clear();
  const key = ui.key.value.trim();
  if (!key) return say('Enter a project key with the read scope.');
  try {
    streams = await fetchStreams(key);
    ui.stream.replaceChildren(
      ...streams.map((s) => new Option(describeStream(s), s.name, false, s.name === wanted)),
    );
    // Nothing to keep in localStorage: the panel loads each user's newest page itself.
    client = createClient({ key, storage: null, onError: (e) => say(`${e.code}: ${e.msg}`) });
    void openPanel();
    say(streams.length === 0 ? 'This project has no metric streams yet.' : '');
    show(view);
  } catch (err) {
    ui.stream.replaceChildren();
    say(`The key was refused (${(err as Error).message}).`);
  }
}

function openPanel(): Promise<void> {
  remember();
  return client ? panel.open(client, ui.key.value.trim(), ui.user.value.trim()) : Promise.resolve();
}

/** Shows one view; only the shown one polls or subscribes. */
function show(next: View): void {
  view = next;
  for (const tab of ui.tabs) tab.setAttribute('aria-selected', String(tab.dataset.view === view));
  ui.overview.hidden = view !== 'overview';
  ui.streamView.hidden = view !== 'stream';
  document.body.dataset.view = view;
  void pages.show(isAnalytics(view) ? view : undefined, ui.key.value.trim());
  if (view === 'stream') {
    const info = streams.find((s) => s.name === ui.stream.value);
    if (streamView.watching !== info?.name || !info) streamView.watch(client, info);
    streamView.resize();
  } else streamView.stop();
  if (view === 'overview') {
    overview.resize();
    void refreshOverview();
  }
  remember();
}

async function refreshOverview(): Promise<void> {
  const key = ui.key.value.trim();
  if (view !== 'overview' || !client || polling) return;
  polling = true;
  try {
    const numbers = await fetchOverview(key);
    if (view === 'overview' && key === ui.key.value.trim()) overview.show(numbers);
    overviewAnswered = true;
  } catch {
    // The next poll tries again; a refused key was already reported by the stream list.
    overviewAnswered = false;
  } finally {
    polling = false;
  }
}

/**
 * The overview is live while its polls are answered, a stream while its socket is open; the
 * analytics pages ask when shown, so they are live once the key is taken.
 */
function showStatus(): void {
  const live =
    view === 'overview'
      ? overviewAnswered
      : view === 'stream'
        ? (client?.stats().liveConnected ?? false)
        : client !== undefined;
  ui.status.dataset.state = live ? 'live' : client ? 'error' : 'idle';
  ui.status.textContent = live ? 'live' : client ? 'reconnecting…' : 'not connected';
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  void useKey();
});
ui.key.addEventListener('change', () => void useKey());
ui.stream.addEventListener('change', () => show('stream'));
for (const tab of ui.tabs) tab.addEventListener('click', () => show(tab.dataset.view as View));
ui.user.addEventListener('change', () => void openPanel());
// Enter in the user field commits it (`change`); the form itself has nothing to submit.
$('inbox-controls').addEventListener('submit', (event) => event.preventDefault());
setInterval(() => void refreshOverview(), overviewEveryMs);
setInterval(() => view === 'stream' && void streamView.refreshCounts(), countsEveryMs);
setInterval(showStatus, 500);

const params = new URLSearchParams(location.search);
ui.key.value = params.get('key') ?? '';
ui.user.value = params.get('user') ?? defaultUser;
const asked = params.get('view');
view = isAnalytics(asked) ? asked : params.has('stream') ? 'stream' : 'overview';
$<HTMLInputElement>('pr-id').value = params.get('person') ?? '';
void useKey(params.get('stream') ?? undefined);
