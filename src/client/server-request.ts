import { serverList, startIndex } from './server-list.js';
import { WebPushError, type FetchLike } from './web-push-types.js';

/**
 * Requests to backline over `fetch`, for code without a socket (a service worker). It stays
 * on the node that answered; a fetch that fails (no answer at all) tries the next node of
 * `url`. Resolves with the body text; a refusal rejects with a `WebPushError` carrying the
 * server's `{code, msg}`.
 *
 * @example
 * const request = createServerRequest('https://backline.example');
 * await request('/v1/push/vapid-public-key');
 */
export function createServerRequest(
  url: string | readonly string[] | undefined,
  fetch?: FetchLike,
) {
  const send: FetchLike = fetch ?? ((target, init) => globalThis.fetch(target, init));
  const servers = serverList(url);
  let at = startIndex(servers.length);
  return async (path: string, init?: Parameters<FetchLike>[1]): Promise<string> => {
    for (let tried = 1; ; tried++) {
      let res: Awaited<ReturnType<FetchLike>>;
      try {
        res = await send(new URL(path, servers[at]).toString(), init);
      } catch (err) {
        if (tried >= servers.length) throw err;
        at = (at + 1) % servers.length;
        continue;
      }
      const text = await res.text();
      if (!res.ok) throw refusal(res.status, text);
      return text;
    }
  };
}

function refusal(status: number, text: string): WebPushError {
  try {
    const { code, msg } = JSON.parse(text) as { code?: unknown; msg?: unknown };
    if (typeof code === 'string')
      return new WebPushError(status, code, typeof msg === 'string' ? msg : code);
  } catch {
    // Not the server's JSON (a proxy's page): the status says it all.
  }
  return new WebPushError(status, 'HTTP_ERROR', `HTTP ${status}`);
}
