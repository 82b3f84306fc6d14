import type { TemplatedApp } from 'uWebSockets.js';

/** One registered HTTP route: who may call it is its access level, or `open` for no credential. */
export interface RouteEntry {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'ANY';
  pattern: string;
  access: string | readonly string[];
  /** An admin write: every call let in with an admin key writes an audit row. */
  audited?: boolean;
}

/** One WebSocket endpoint and the message types it handles. */
export interface SocketEntry {
  endpoint: string;
  messages: string[];
}

export interface RouteTable {
  routes: RouteEntry[];
  sockets: SocketEntry[];
}

const tables = new WeakMap<TemplatedApp, RouteTable>();

/**
 * Every route and socket registered on `app`, in registration order, as `createRoutes`,
 * `createOpenRoutes` and `defineSocket` record them: the one place they all pass, so nothing
 * reachable is missing (the isolation suite reads it and fails for a route it has no case
 * for). Per app, so several apps in one process keep their own.
 *
 * @example
 * routeTable(app).routes; // [{ method: 'GET', pattern: '/v1/streams', access: 'read' }, …]
 */
export function routeTable(app: TemplatedApp): RouteTable {
  let table = tables.get(app);
  if (!table) tables.set(app, (table = { routes: [], sockets: [] }));
  return table;
}

const methods = {
  get: 'GET',
  put: 'PUT',
  post: 'POST',
  del: 'DELETE',
  options: 'OPTIONS',
  any: 'ANY',
} as const;

export function recordRoute(
  app: TemplatedApp,
  method: keyof typeof methods,
  pattern: string,
  access: unknown,
  audited = false,
): void {
  const level = Array.isArray(access) ? access.map(String) : String(access);
  routeTable(app).routes.push({ method: methods[method], pattern, access: level, audited });
}
