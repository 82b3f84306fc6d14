import type { CorsSettings } from '../config/schema.js';

/** What CORS adds to answers: echoed origins, never credentials (keys are bearer tokens). */
const allowMethods = 'GET, POST, PUT, DELETE';
const allowHeaders = 'authorization, content-type, accept';
// The rate limit answer's header, so a page can read when to retry.
const exposeHeaders = 'retry-after';

export interface Cors {
  /** True when `cors.origins` lists any: answers vary on Origin, and sockets check it. */
  readonly enabled: boolean;
  /**
   * Whether a page of `origin` may call the API and open sockets: a listed origin, or the
   * server's own (its `host`, as the request names it). No Origin header (not a browser) is
   * not a page, and is let in: the key still guards every route.
   */
  allows(origin: string, host: string): boolean;
  /** Headers of an API answer to a request from `origin` (none while disabled). */
  headers(origin: string, host: string): Record<string, string>;
  /** Headers of the answer to an allowed preflight (`OPTIONS`). */
  preflightHeaders(origin: string): Record<string, string>;
}

/** `https://*.example.com` matches one or more labels before `example.com`, on that scheme and port. */
function matcher(pattern: string): (origin: string) => boolean {
  if (pattern === '*') return () => true;
  const wanted = pattern.toLowerCase();
  const star = wanted.indexOf('://*.');
  if (star < 0) return (origin) => origin === wanted;
  const scheme = wanted.slice(0, star + 3);
  const suffix = wanted.slice(star + 4); // `.example.com[:port]`
  return (origin) =>
    origin.startsWith(scheme) &&
    origin.endsWith(suffix) &&
    /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(origin.slice(scheme.length, -suffix.length));
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    return host !== '' && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The CORS policy of `cors.origins`, for the API routes and socket upgrades alike.
 *
 * @example
 * const cors = createCors({ origins: ['https://app.example'], maxAgeSeconds: 600 });
 * cors.headers('https://app.example', 'api.example'); // { vary: 'origin', 'access-control-allow-origin': … }
 */
export function createCors(settings: CorsSettings): Cors {
  const matchers = settings.origins.map(matcher);
  const enabled = matchers.length > 0;
  const allows = (origin: string, host: string) => {
    if (!enabled || origin === '') return true;
    const lower = origin.toLowerCase();
    return sameOrigin(lower, host) || matchers.some((match) => match(lower));
  };
  return {
    enabled,
    allows,
    headers(origin, host) {
      if (!enabled) return {};
      // Caches must not serve one origin's answer to another.
      const headers: Record<string, string> = { vary: 'origin' };
      if (origin !== '' && allows(origin, host)) {
        headers['access-control-allow-origin'] = origin;
        headers['access-control-expose-headers'] = exposeHeaders;
      }
      return headers;
    },
    preflightHeaders: (origin) => ({
      vary: 'origin',
      'access-control-allow-origin': origin,
      'access-control-allow-methods': allowMethods,
      'access-control-allow-headers': allowHeaders,
      'access-control-max-age': String(settings.maxAgeSeconds),
    }),
  };
}
