/** One JSON call to a server the bench started: the parsed answer, or a throw past 2xx. */
export type JsonApi = (method: string, path: string, body?: unknown) => Promise<unknown>;

/**
 * JSON calls with the project key of a server the bench started. Node's fetch keeps its
 * connections alive, so many calls in parallel reuse a pool of sockets.
 *
 * @example
 * const api = jsonApi(server);
 * await api('PUT', '/v1/users/u1/preferences', { email: 'u1@example.com' });
 */
export function jsonApi(target: { port: number; key: string }, timeoutMs = 60_000): JsonApi {
  const origin = `http://127.0.0.1:${target.port}`;
  const headers = { authorization: `Bearer ${target.key}`, 'content-type': 'application/json' };
  return async (method, path, body) => {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status >= 300)
      throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as unknown) : {};
  };
}
