/**
 * The servers a client may use: one URL, or several nodes of a cluster (any node serves any
 * socket, README "Client library").
 *
 * @example
 * serverList(['http://a:8080', 'http://b:8080']); // ['http://a:8080', 'http://b:8080']
 * serverList(undefined); // in a browser: [location.origin]
 */
export function serverList(url: string | readonly string[] | undefined): string[] {
  if (url !== undefined) {
    const servers = typeof url === 'string' ? [url] : [...url];
    if (servers.length === 0) throw new Error('options.url is an empty list: name a server');
    return servers;
  }
  const origin = (globalThis as { location?: { origin: string } }).location?.origin;
  if (!origin) throw new Error('no server URL: pass options.url');
  return [origin];
}

/**
 * Where a client starts in its list: at random, so that the clients of one list spread over
 * the nodes rather than all opening on the first.
 */
export function startIndex(servers: number, random = Math.random): number {
  return Math.min(servers - 1, Math.floor(random() * servers));
}

/**
 * Names a storage slot for a list: the same for one URL as before lists existed (so a queue
 * saved by an older client is found), and independent of the list's order.
 */
export function serverListName(url: string | readonly string[] | undefined): string {
  if (url === undefined || typeof url === 'string') return url ?? '';
  return [...url].sort().join(',');
}
