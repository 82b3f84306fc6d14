/**
 * Sum of the samples of `name` in the server's `/metrics` whose labels include every pair of
 * `labels` (0 when there is none).
 *
 * @example
 * await scrape(server.url, 'backline_ingest_frames_total', { transport: 'ws' });
 */
export async function scrape(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return (await scrapeAll(url))(name, labels);
}

/**
 * One read of `/metrics`, for several samples of the same moment: gauges that reset at every
 * scrape (the event-loop lag) must be read together with the rest.
 *
 * @example
 * const sample = await scrapeAll(server.url);
 * sample('backline_ops_event_loop_lag_seconds', { stat: 'p99' });
 */
export async function scrapeAll(
  url: string,
): Promise<(name: string, labels?: Record<string, string>) => number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (name, labels = {}) => {
    let sum = 0;
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const wanted = Object.entries(labels).every(([k, v]) => match[2]?.includes(`${k}="${v}"`));
      if (wanted) sum += Number(match[3]);
    }
    return sum;
  };
}
