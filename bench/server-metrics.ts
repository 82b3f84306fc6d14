/**
 * The server's `/metrics` (Prometheus text), read into one number per series, keyed as the
 * text writes it: `backline_pipeline_open_windows`, `nodejs_heap_size_used_bytes`,
 * `backline_ops_event_loop_lag_seconds{stat="max"}`.
 *
 * @example
 * const metrics = await scrapeMetrics(server.port);
 * metrics.get('backline_pipeline_open_windows'); // 100000
 */
export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/**
 * The sum over every series of a metric whose labels include each of `labels`, whatever its
 * others (counters split by reason …).
 */
export function sumOf(
  series: Map<string, number>,
  metric: string,
  labels: Record<string, string> = {},
): number {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const [key, value] of series)
    if ((key === metric || key.startsWith(`${metric}{`)) && pairs.every((p) => key.includes(p)))
      sum += value;
  return sum;
}

/**
 * A metric's series by one label's value, summed over its other labels:
 * `byLabel(series, 'backline_transport_closed_by_server_total', 'reason')` → `{ slow: 3 }`.
 */
export function byLabel(
  series: Map<string, number>,
  metric: string,
  label: string,
): Record<string, number> {
  const counts: Record<string, number> = {};
  const value = new RegExp(`[{,]${label}="([^"]*)"`);
  for (const [key, n] of series) {
    if (!key.startsWith(`${metric}{`) || n === 0) continue;
    const name = value.exec(key)?.[1] ?? '';
    counts[name] = (counts[name] ?? 0) + n;
  }
  return counts;
}
