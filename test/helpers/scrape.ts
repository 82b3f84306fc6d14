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
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const wanted = Object.entries(labels).every(([k, v]) => match[2]?.includes(`${k}="${v}"`));
    if (wanted) sum += Number(match[3]);
  }
  return sum;
}
