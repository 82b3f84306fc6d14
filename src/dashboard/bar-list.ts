/**
 * One line of a bar list: `label | bar | count`, the bar `fraction` of the track long (none in
 * a head line), and any `extra` cells after the count. Shared by the topK bars, the funnel's
 * steps and the trending list. `title` repeats the label and count for a hover.
 *
 * @example
 * list.append(barRow('value', 'plays', 'bars-head'), barRow('song-a', '5', 'bar-row', 1));
 */
export function barRow(
  label: string,
  count: string,
  className: string,
  fraction?: number,
  extra: readonly string[] = [],
): HTMLElement {
  const line = document.createElement('div');
  line.className = className;
  const cell = (part: string, text = '') => {
    const span = document.createElement('span');
    span.className = part;
    span.textContent = text; // textContent only: values come from events, never as markup
    line.append(span);
    return span;
  };
  cell('bar-label', label);
  const track = cell('bar-track');
  cell('bar-count', count);
  for (const text of extra) cell('bar-extra', text);
  if (fraction !== undefined) {
    const bar = document.createElement('span');
    bar.className = 'bar';
    // Through the CSSOM, which the page's Content Security Policy allows (no inline styles).
    bar.style.width = `${100 * Math.max(0, Math.min(1, fraction))}%`;
    track.append(bar);
  }
  line.title = `${label}: ${count}`;
  return line;
}
