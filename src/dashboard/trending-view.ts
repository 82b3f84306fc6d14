import { getJson, type Trending, type TrendingItem } from './analytics-api.js';
import { duration, percent, utcMinute } from './analytics-format.js';
import { barRow } from './bar-list.js';
import { showError, showMessage } from './page-message.js';
import { fillTypes } from './type-options.js';

const refreshEveryMs = 5000;

/**
 * The trending page: values of a field (`props.artistId`, `type`, any `props.<path>`) ranked
 * by their time-decayed score from `GET /v1/trending`, as bars, with the change against the
 * previous period; asked again every 5 s while the page is shown, so it moves with the events
 * (the server follows them live). Rows carry `data-value`, `data-score` and `data-events`;
 * the list `data-as-of`.
 *
 * @example
 * const trending = createTrendingView(document.getElementById('trending')!);
 * trending.open(key, types);
 */
export function createTrendingView(root: HTMLElement) {
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const form = $<HTMLFormElement>('tg-form');
  const entity = $<HTMLInputElement>('tg-entity');
  const type = $<HTMLSelectElement>('tg-type');
  const period = $<HTMLSelectElement>('tg-period');
  const limit = $<HTMLInputElement>('tg-limit');
  const message = $('tg-message');
  const caption = $('tg-caption');
  const list = $('tg-list');
  let key = '';
  let asked = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  async function load(): Promise<void> {
    const ask = ++asked;
    const query = {
      entity: entity.value.trim(),
      types: type.value ? [type.value] : undefined,
      period: period.value,
      limit: limit.value,
    };
    try {
      const trending = await getJson<Trending>('/v1/trending', key, query);
      if (ask === asked) render(trending);
    } catch (err) {
      if (ask !== asked) return;
      list.replaceChildren();
      caption.textContent = '';
      showError(message, err);
    }
  }

  function render(trending: Trending): void {
    list.dataset.asOf = String(trending.asOf);
    list.dataset.entity = trending.entity;
    const source = trending.live ? 'live' : 'from storage';
    caption.textContent =
      `As of ${utcMinute(trending.asOf)} UTC · ${source} · period ${duration(trending.periodMs)}, ` +
      `half-life ${duration(trending.halfLifeMs)} · asked every ${refreshEveryMs / 1000} s`;
    const items = trending.items;
    showMessage(
      message,
      items.length === 0
        ? `No values of ${trending.entity} in the last ${duration(trending.periodMs)}.`
        : '',
    );
    if (items.length === 0) return list.replaceChildren();
    const max = Math.max(...items.map((i) => i.score));
    const head = barRow('value', 'score', 'bars-head', undefined, ['vs previous period', 'events']);
    list.replaceChildren(head, ...items.map((item, i) => itemRow(item, i, max)));
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  form.addEventListener('change', () => void load());

  return {
    open(withKey: string, types: readonly string[]): void {
      key = withKey;
      fillTypes(type, types, [['', 'any event']]);
      this.close();
      timer = setInterval(() => void load(), refreshEveryMs);
      void load();
    },
    /** Stops asking: the page is hidden. */
    close(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

function itemRow(item: TrendingItem, i: number, max: number): HTMLElement {
  const row = barRow(
    `${i + 1}. ${item.value}`,
    item.score.toFixed(1),
    'bar-row',
    item.score / max,
    [change(item), String(item.events)],
  );
  row.dataset.value = item.value;
  row.dataset.score = String(item.score);
  row.dataset.events = String(item.events);
  row.dataset.direction = item.changeRatio === null ? 'new' : item.change >= 0 ? 'up' : 'down';
  return row;
}

/** `▲ +316.4 (+329.0%)`, `▼ −13.6 (−4.5%)`, or `new` without events in the previous period. */
function change(item: TrendingItem): string {
  if (item.changeRatio === null) return 'new';
  const sign = item.change >= 0 ? '+' : '−';
  const arrow = item.change >= 0 ? '▲' : '▼';
  const ratio = percent(Math.abs(item.changeRatio));
  return `${arrow} ${sign}${Math.abs(item.change).toFixed(1)} (${sign}${ratio})`;
}
