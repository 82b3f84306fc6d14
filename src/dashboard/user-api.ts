import type { InboxCounts, InboxNotification } from '../client/index.js';

/** An item of `GET /v1/users/:id/inbox`, newest first. */
export type InboxItem = Omit<InboxNotification, 'live'> & { archived: boolean };

export interface InboxPage {
  items: InboxItem[];
  /** Pass as `before` for the next (older) page; null on the last. */
  next: string | null;
  counts: InboxCounts;
}

/**
 * A user token from `POST /v1/users/:id/token`, which needs a key with the admin scope (the
 * dev key has it). A real app issues it from its backend; the dashboard is an operator's page.
 */
export async function fetchUserToken(
  key: string,
  userId: string,
): Promise<{ token: string; expiresAt: number }> {
  return call(`/v1/users/${encodeURIComponent(userId)}/token`, key, { method: 'POST' });
}

/** One page of the user's inbox with their own token, newest first. */
export function fetchInboxPage(
  token: string,
  userId: string,
  options: { limit: number; before?: string },
): Promise<InboxPage> {
  const query = new URLSearchParams({ limit: String(options.limit) });
  if (options.before) query.set('before', options.before);
  return call(`/v1/users/${encodeURIComponent(userId)}/inbox?${query}`, token);
}

/** Ids of unread items, paging through the inbox (at most `maxPages` of 500). */
export async function unreadIds(token: string, userId: string, maxPages = 20): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchInboxPage(token, userId, { limit: 500, before });
    for (const item of page.items) if (!item.read) ids.push(item.id);
    if (!page.next) break;
    before = page.next;
  }
  return ids;
}

/** Throws `CODE: message` when the server refuses. */
async function call<T>(path: string, credential: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${credential}` },
  });
  const body = (await res.json()) as T & { code?: string; msg?: string };
  if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.msg ?? 'request failed'}`);
  return body;
}
