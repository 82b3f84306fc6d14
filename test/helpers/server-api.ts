import type { ServerProcess } from './server-process.js';

/**
 * JSON calls to a test server with its own key: `(method, path, body?)` → `{status, body}`
 * (an empty answer reads as `{}`). `server` is read at each call, so it may be started later.
 *
 * @example
 * const api = serverApi(() => server);
 * expect((await api('PUT', '/v1/users/u1/preferences', { email })).status).toBe(200);
 */
export function serverApi(server: () => ServerProcess) {
  return async (method: string, path: string, body?: unknown) => {
    const { url, key } = server();
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
}
