import type { LiveWindow } from '../client/index.js';

/**
 * Renders windows as rows of `start | key | values | final | rev`, newest first; an open
 * window's values are provisional (an early emission), which its row says and shows.
 */
export function renderWindowTable(
  body: HTMLTableSectionElement,
  windows: readonly LiveWindow[],
): void {
  const rows = windows.map((window) => {
    const row = document.createElement('tr');
    row.dataset.start = String(window.start);
    row.dataset.key = window.key;
    row.dataset.final = String(window.final);
    const start = new Date(window.start);
    // textContent only: keys and values come from events, never as markup.
    cell(row, start.toLocaleTimeString(undefined, { hour12: false })).title = start.toISOString();
    cell(row, window.key === '' ? '(all)' : window.key);
    cell(row, formatValues(window.values), 'values');
    cell(row, window.final ? 'final' : 'provisional', 'final').title = window.final
      ? 'closed: these values are final (a late event may still re-emit it)'
      : 'open: these values are provisional until the window closes';
    cell(row, String(window.rev));
    return row;
  });
  body.replaceChildren(...rows);
}

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** `votes=12 voters=9 load_ms={p50=180 p95=410} songs=[song-3×4, song-1×2]` */
export function formatValues(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${formatValue(value)}`)
    .join(' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(Math.round(value * 100) / 100);
  if (Array.isArray(value)) {
    const top = value
      .slice(0, 5)
      .map((e: { value?: unknown; count?: unknown }) =>
        e?.count === undefined ? String(e?.value) : `${String(e.value)}×${String(e.count)}`,
      );
    return `[${top.join(', ')}${value.length > 5 ? ', …' : ''}]`;
  }
  if (value && typeof value === 'object') {
    const parts = Object.entries(value).map(([k, v]) => `${k}=${formatValue(v)}`);
    return `{${parts.join(' ')}}`;
  }
  return String(value);
}
