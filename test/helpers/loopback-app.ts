import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Uws } from '../../src/transport/uws.js';

/** A uWS app listening on a free loopback port; `close` stops the listening. */
export async function listenOnLoopback(uws: Uws, app: TemplatedApp) {
  const socket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (listening) =>
      listening ? resolve(listening) : reject(new Error('listen failed')),
    ),
  );
  const port = uws.us_socket_local_port(socket as never);
  return {
    origin: `http://127.0.0.1:${port}`,
    wsOrigin: `ws://127.0.0.1:${port}`,
    close: () => uws.us_listen_socket_close(socket),
  };
}

/** Calls a JSON route with a key as `Authorization: Bearer`; answers the status and body. */
export const jsonCaller =
  (origin: () => string) => async (method: string, path: string, key?: string, body?: unknown) => {
    const res = await fetch(origin() + path, {
      method,
      headers: key ? { authorization: `Bearer ${key}` } : {},
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  };
