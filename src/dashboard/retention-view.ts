import { getJson, type Retention, type RetentionCohort } from './analytics-api.js';
import { percent, utcDay } from './analytics-format.js';
import { lastDays } from './analytics-range.js';
import { showError, showMessage } from './page-message.js';
import { fillTypes } from './type-options.js';

/**
 * The retention page: a cohort triangle from `GET /v1/analytics/retention`. Rows are cohorts
 * (persons whose first cohort event fell on that UTC day or week), columns period 0…N; a cell
 * is the rate of the cohort returning in that period, its count and size in its title, shaded
 * by the rate. Periods not begun yet stay empty, which makes the triangle. Cells carry
 * `data-period`, `data-count` and `data-rate`; rows `data-start` and `data-size`.
 *
 * @example
 * const retention = createRetentionView(document.getElementById('retention')!);
 * retention.open(key, ['signup', 'song.play']);
 */
export function createRetentionView(root: HTMLElement) {
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const form = $<HTMLFormElement>('re-form');
  const cohort = $<HTMLSelectElement>('re-cohort');
  const returning = $<HTMLSelectElement>('re-return');
  const interval = $<HTMLSelectElement>('re-interval');
  const periods = $<HTMLInputElement>('re-periods');
  const range = $<HTMLSelectElement>('re-range');
  const message = $('re-message');
  const table = $<HTMLTableElement>('re-table');
  let key = '';
  let asked = 0;

  async function load(): Promise<void> {
    const ask = ++asked;
    const every = interval.value as 'day' | 'week';
    const query = {
      ...lastDays(Number(range.value), every),
      interval: every,
      periods: periods.value,
      cohort: cohort.value,
      return: returning.value,
    };
    try {
      const retention = await getJson<Retention>('/v1/analytics/retention', key, query);
      if (ask === asked) render(retention);
    } catch (err) {
      if (ask !== asked) return;
      table.hidden = true;
      showError(message, err);
    }
  }

  function render(retention: Retention): void {
    Object.assign(root.dataset, { from: `${retention.from}`, to: `${retention.to}` });
    const empty = retention.cohorts.every((c) => c.size === 0);
    table.hidden = empty;
    showMessage(message, empty ? 'No cohort in this range: nobody’s cohort event fell in it.' : '');
    if (empty) return;
    const head = document.createElement('tr');
    const th = (text: string) =>
      (head.appendChild(document.createElement('th')).textContent = text);
    th(`cohort (${retention.interval} of, UTC)`);
    th('persons');
    for (let k = 0; k <= retention.periods; k++) th(`${retention.interval} ${k}`);
    table.tHead!.replaceChildren(head);
    table.tBodies[0]!.replaceChildren(...retention.cohorts.map(cohortRow));
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  form.addEventListener('change', () => void load());

  return {
    open(withKey: string, types: readonly string[]): void {
      key = withKey;
      fillTypes(cohort, types, [['first_seen', 'first seen (any event)']]);
      fillTypes(returning, types, [['any', 'any event']]);
      void load();
    },
  };
}

function cohortRow(cohort: RetentionCohort): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset.start = String(cohort.start);
  row.dataset.size = String(cohort.size);
  row.insertCell().textContent = utcDay(cohort.start);
  row.insertCell().textContent = String(cohort.size);
  cohort.counts.forEach((count, k) => {
    const cell = row.insertCell();
    const rate = cohort.rates[k] ?? null;
    cell.className = 'rate';
    cell.dataset.period = String(k);
    if (count === null) {
      cell.dataset.future = 'true';
      cell.title = 'this period has not begun';
      return;
    }
    cell.dataset.count = String(count);
    cell.dataset.rate = String(rate ?? '');
    cell.textContent = rate === null ? '–' : percent(rate, 0);
    cell.title = `${count} of ${cohort.size} persons`;
    // Shaded by the rate, through the CSSOM (the page's policy allows no inline styles).
    cell.style.backgroundColor = `rgba(60, 109, 240, ${(0.08 + 0.72 * (rate ?? 0)).toFixed(3)})`;
    if ((rate ?? 0) > 0.55) cell.classList.add('dark');
  });
  return row;
}
