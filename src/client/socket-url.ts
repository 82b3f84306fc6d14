/**
 * A socket's URL from the server's (or, in a browser, the page's) origin.
 *
 * @example
 * socketUrl('http://127.0.0.1:8080', '/v1/live', { key }); // 'ws://127.0.0.1:8080/v1/live?key=…'
 */
export function socketUrl(
  base: string | undefined,
  path: string,
  query: Record<string, string>,
): string {
  const origin = base ?? (globalThis as { location?: { origin: string } }).location?.origin;
  if (!origin) throw new Error('no server URL: pass options.url');
  const url = new URL(path, origin);
  url.protocol = url.protocol.replace(/^http/, 'ws');
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.toString();
}
