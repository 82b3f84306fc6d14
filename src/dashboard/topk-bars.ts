import type { LiveWindow } from '../client/index.js';
import { barRow as row } from './bar-list.js';
import { topValueBars } from './series.js';

const shownBars = 20;

/**
 * A `topK` field as horizontal bars, value → count, of the newest window: a top-values list
 * is a ranking, which a line per value over time hides. The caption gives the window's time
 * and marks it provisional while it is open. `data-start`, `data-end` and `data-provisional`
 * on the element, and `data-label`/`data-count` on each bar, say what is drawn.
 *
 * @example
 * renderTopKBars(document.getElementById('bars')!, book.list(), 'songs\t[]', 'songs (events)');
 */
export function renderTopKBars(
  element: HTMLElement,
  windows: readonly LiveWindow[],
  fieldId: string,
  valueTitle: string,
): void {
  const { windows: shown, bars } = topValueBars(windows, fieldId, shownBars);
  const first = shown[0];
  const provisional = shown.some((w) => !w.final);
  element.dataset.start = String(first?.start ?? '');
  element.dataset.end = String(first?.end ?? '');
  element.dataset.provisional = String(provisional);

  const caption = document.createElement('p');
  caption.className = 'bars-caption';
  caption.textContent = first
    ? `Window ${span(first.start, first.end)} · ${provisional ? 'provisional' : 'final'}`
    : 'No window yet.';
  const head = row('value', valueTitle, 'bars-head');
  const max = Math.max(1, ...bars.map((b) => b.count));
  const rows = bars.map(({ label, count }) => {
    const bar = row(label, String(count), 'bar-row', count / max);
    bar.dataset.label = label;
    bar.dataset.count = String(count);
    return bar;
  });
  element.replaceChildren(caption, head, ...rows);
}

/** `14:00:00–15:00:00`, with dates when the window is a day or more. */
function span(start: number, end: number): string {
  const long = end - start >= 24 * 3600_000;
  const at = (ms: number) =>
    long
      ? new Date(ms).toLocaleString(undefined, { hour12: false })
      : new Date(ms).toLocaleTimeString(undefined, { hour12: false });
  return `${at(start)}–${at(end)}`;
}
