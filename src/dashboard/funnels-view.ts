import { getJson, type Funnel, type FunnelStep } from './analytics-api.js';
import { duration, percent, seriesName } from './analytics-format.js';
import { lastDays } from './analytics-range.js';
import { barRow } from './bar-list.js';
import { showError, showMessage } from './page-message.js';
import { fillTypes } from './type-options.js';

const minSteps = 2;
const maxSteps = 10; // as the API takes them

/**
 * The funnels page: steps picked from the project's event types, in order, within a window of
 * step 1, over the last days, from `GET /v1/analytics/funnels`: per step a bar of the persons
 * reaching it (its length the conversion from step 1), the rate from the step before and the
 * median time from it. With a breakdown (the value on a person's first step-1 event), one
 * such list per value, the top ones and `other`. Rows carry `data-step`, `data-count` and
 * `data-median`.
 *
 * @example
 * const funnels = createFunnelsView(document.getElementById('funnels')!);
 * funnels.open(key, ['page.view', 'signup', 'ticket.buy']);
 */
export function createFunnelsView(root: HTMLElement) {
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const form = $<HTMLFormElement>('fu-form');
  const steps = $('fu-steps');
  const windowMs = $<HTMLSelectElement>('fu-window');
  const range = $<HTMLSelectElement>('fu-range');
  const breakdown = $<HTMLInputElement>('fu-breakdown');
  const message = $('fu-message');
  const results = $('fu-results');
  let key = '';
  let types: readonly string[] = [];
  let asked = 0;

  const pickers = () => [...steps.querySelectorAll<HTMLSelectElement>('select')];
  function addStep(): void {
    const n = pickers().length;
    if (n >= maxSteps) return;
    const select = document.createElement('select');
    select.className = 'step';
    select.setAttribute('aria-label', `step ${n + 1}`);
    fillTypes(select, types, [], n);
    steps.append(select);
  }

  async function load(): Promise<void> {
    const ask = ++asked;
    const chosen = pickers().map((s) => ({ type: s.value }));
    if (chosen.some((s) => !s.type)) {
      results.replaceChildren();
      return showMessage(message, 'This project has no events yet: no step to pick.');
    }
    const query = {
      ...lastDays(Number(range.value), 'day'),
      steps: chosen,
      window: windowMs.value,
      breakdown: breakdown.value.trim() || undefined,
    };
    try {
      const funnel = await getJson<Funnel>('/v1/analytics/funnels', key, query);
      if (ask === asked) render(funnel);
    } catch (err) {
      if (ask !== asked) return;
      results.replaceChildren();
      showError(message, err);
    }
  }

  function render(funnel: Funnel): void {
    Object.assign(root.dataset, { from: `${funnel.from}`, to: `${funnel.to}` });
    const entered = funnel.results.some((r) => (r.steps[0]?.count ?? 0) > 0);
    const first = pickers()[0]?.value ?? '';
    showMessage(message, entered ? '' : `Nobody did step 1 (${first}) in this range.`);
    results.replaceChildren(
      ...(entered ? funnel.results.map((r) => resultBars(r, funnel.breakdown)) : []),
    );
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load();
  });
  form.addEventListener('change', () => void load());
  $('fu-add').addEventListener('click', () => {
    addStep();
    void load();
  });
  $('fu-remove').addEventListener('click', () => {
    if (pickers().length <= minSteps) return;
    pickers().at(-1)!.remove();
    void load();
  });

  return {
    open(withKey: string, known: readonly string[]): void {
      key = withKey;
      types = known;
      pickers().forEach((select, i) => fillTypes(select, types, [], i));
      while (pickers().length < minSteps) addStep();
      void load();
    },
  };
}

/** One breakdown value's steps as bars: persons, of step 1, of the step before, median time. */
function resultBars(result: Funnel['results'][number], breakdown: string | null): HTMLElement {
  const section = document.createElement('section');
  section.className = 'bars funnel';
  section.dataset.key = result.other ? '(other)' : String(result.key);
  const caption = document.createElement('p');
  caption.className = 'bars-caption';
  caption.textContent = breakdown
    ? `${breakdown} = ${seriesName(result)}`
    : 'every person who did step 1';
  const head = barRow('step', 'persons', 'bars-head', undefined, [
    'of step 1',
    'of previous',
    'median from previous',
  ]);
  section.append(caption, head, ...result.steps.map(stepRow));
  return section;
}

function stepRow(step: FunnelStep, i: number): HTMLElement {
  const row = barRow(
    `${i + 1}. ${step.type}`,
    String(step.count),
    'bar-row',
    step.conversion ?? 0,
    [percent(step.conversion), percent(step.fromPrevious), duration(step.medianMsFromPrevious)],
  );
  row.dataset.step = String(i + 1);
  row.dataset.count = String(step.count);
  row.dataset.median = String(step.medianMsFromPrevious ?? '');
  return row;
}
