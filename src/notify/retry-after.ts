/**
 * The delay a `Retry-After` header asks for (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), in ms from `now`, capped at `maxMs` so one provider's answer cannot park a
 * retry for days; `undefined` when the header is absent or unreadable.
 *
 * @example
 * retryAfterMs('120'); // 120_000
 * retryAfterMs('Wed, 25 Nov 2026 12:00:00 GMT', Date.parse('2026-11-25T11:59:30Z')); // 30_000
 */
export function retryAfterMs(
  header: string | string[] | undefined,
  now = Date.now(),
  maxMs = 3600_000,
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(maxMs, Math.max(0, ms));
}
