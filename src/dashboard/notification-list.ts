/** What a row of the panel shows of a notification. */
export interface ListedNotification {
  id: string;
  category: string;
  title: string;
  body: string;
  ts: number;
  read: boolean;
}

/**
 * Renders notifications as `<li>` rows, newest first: title, body, category and time, with
 * `data-read` (unread rows are styled apart). Text only: titles come from rules over events.
 */
export function renderNotificationList(
  list: HTMLOListElement,
  items: readonly ListedNotification[],
): void {
  const rows = items.map((item) => {
    const row = document.createElement('li');
    row.dataset.id = item.id;
    row.dataset.read = String(item.read);
    const head = row.appendChild(document.createElement('div'));
    head.className = 'head';
    text(head, 'strong', item.title, 'title');
    const time = text(head, 'time', new Date(item.ts).toLocaleTimeString(undefined, clock));
    time.dateTime = new Date(item.ts).toISOString();
    if (item.body) text(row, 'p', item.body, 'body');
    text(row, 'span', item.category, 'category');
    return row;
  });
  list.replaceChildren(...rows);
}

const clock: Intl.DateTimeFormatOptions = { hour12: false };

function text<K extends keyof HTMLElementTagNameMap>(
  parent: HTMLElement,
  tag: K,
  content: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const element = parent.appendChild(document.createElement(tag));
  element.textContent = content;
  if (className) element.className = className;
  return element;
}
