import type { Client, Inbox, InboxCounts, MarkedAs } from '../client/index.js';
import { renderNotificationList, type ListedNotification } from './notification-list.js';
import { fetchInboxPage, fetchUserToken, unreadIds } from './user-api.js';

const shownRows = 50;
const renewBeforeMs = 60_000; // a fresh user token this long before the current one expires

export interface PanelElements {
  list: HTMLOListElement;
  unread: HTMLElement;
  markAll: HTMLButtonElement;
  message: HTMLElement;
}

/**
 * The notifications panel: one user's inbox, its newest page from `GET /v1/users/:id/inbox`,
 * then live through `client.inbox` from the newest id of that page on, so nothing is shown
 * twice. The page's key gets the user token, so it needs the admin scope (the dev key has it).
 *
 * @example
 * const panel = createNotificationPanel({ list, unread, markAll, message });
 * await panel.open(client, key, 'demo-fan');
 */
export function createNotificationPanel(ui: PanelElements) {
  const items = new Map<string, ListedNotification>();
  let inbox: Inbox | undefined;
  let session: { owner: string; token: string; userId: string } | undefined;
  let unread = 0;
  let generation = 0; // a later open() wins over one still waiting for the server
  let renewTimer: ReturnType<typeof setTimeout> | undefined;
  let pending = false;

  const say = (text: string) => {
    ui.message.textContent = text;
    ui.message.hidden = text === '';
  };
  const showCounts = (counts: InboxCounts) => {
    unread = counts.unread;
    ui.unread.textContent = String(unread);
    ui.unread.dataset.count = String(unread);
    ui.markAll.disabled = unread === 0;
  };
  const render = () => {
    pending = false;
    const newest = [...items.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
    for (const old of newest.slice(shownRows)) items.delete(old.id);
    renderNotificationList(ui.list, newest.slice(0, shownRows));
  };
  const changed = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(render);
  };
  const marked = (as: MarkedAs, ids: string[]) => {
    for (const id of ids) {
      const item = items.get(id);
      if (item && as === 'archived') items.delete(id);
      else if (item && as === 'read') item.read = true;
    }
    changed();
  };

  function stop(): void {
    generation += 1;
    clearTimeout(renewTimer);
    inbox?.close();
    inbox = undefined;
  }

  function clear(): void {
    stop();
    session = undefined;
    items.clear();
    showCounts({ unread: 0, unseen: 0, total: 0 });
    changed();
    say('');
  }

  /** Shows `userId`'s inbox; called again (same user) it renews the token, keeping the rows. */
  async function open(client: Client, key: string, userId: string): Promise<void> {
    const owner = `${key}\n${userId}`;
    if (session?.owner !== owner) clear();
    else stop();
    const mine = generation;
    if (!userId) return say('Enter a user id to see their notifications.');
    try {
      const { token, expiresAt } = await fetchUserToken(key, userId);
      const page = await fetchInboxPage(token, userId, { limit: shownRows });
      if (mine !== generation) return;
      for (const item of page.items) if (!item.archived) items.set(item.id, { ...item });
      showCounts(page.counts);
      changed();
      say(page.items.length === 0 ? `No notifications for ${userId} yet.` : '');
      session = { owner, token, userId };
      inbox = client.inbox({
        token,
        userId,
        after: page.items[0]?.id,
        onNotification: (n) => {
          items.set(n.id, { ...n });
          say('');
          changed();
        },
        onCounts: showCounts,
        onMarked: marked,
      });
      const renewIn = Math.max(1000, expiresAt - Date.now() - renewBeforeMs);
      renewTimer = setTimeout(() => void open(client, key, userId), renewIn);
    } catch (err) {
      if (mine !== generation) return;
      const text = (err as Error).message;
      say(
        text.startsWith('FORBIDDEN')
          ? 'Showing a user’s notifications needs a key with the admin scope.'
          : `The notifications could not be loaded (${text}).`,
      );
    }
  }

  /** Marks every unread item read: those shown, then any older ones the counts say remain. */
  async function markAllRead(): Promise<void> {
    if (!inbox || !session) return;
    const shown = [...items.values()].filter((item) => !item.read).map((item) => item.id);
    inbox.markRead(shown);
    if (unread <= shown.length) return;
    const { token, userId } = session;
    const rest = (await unreadIds(token, userId)).filter((id) => !shown.includes(id));
    inbox.markRead(rest);
  }

  ui.markAll.addEventListener('click', () => void markAllRead());
  return {
    open,
    close: clear,
    get connected(): boolean {
      return inbox?.connected ?? false;
    },
  };
}
