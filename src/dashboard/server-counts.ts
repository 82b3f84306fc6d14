/** Counters of the server that a stream's viewer should see next to its windows. */
export interface ServerCounts {
  /** Late events that still updated their (closed) window, which was emitted again. */
  lateWithin: number;
  /** Events later than `allowedLatenessMs`: stored raw, not aggregated. */
  tooLate: number;
  /** Window updates dropped for slow dashboards, over the whole server. */
  liveDropped: number;
}

/** Reads them from `GET /metrics` (Prometheus text; the metrics need no key). */
export async function fetchServerCounts(stream: string): Promise<ServerCounts> {
  const res = await fetch('/metrics');
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return parseServerCounts(await res.text(), stream);
}

export function parseServerCounts(text: string, stream: string): ServerCounts {
  const counts: ServerCounts = { lateWithin: 0, tooLate: 0, liveDropped: 0 };
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const [, name, labels = '', value] = match;
    if (name === 'backline_live_updates_dropped_total') counts.liveDropped += Number(value);
    if (name !== 'backline_pipeline_late_events_total') continue;
    // Streams are named per project, and metrics are not: same-named streams add up here.
    if (!labels.includes(`stream="${stream}"`)) continue;
    if (labels.includes('kind="within"')) counts.lateWithin += Number(value);
    if (labels.includes('kind="too_late"')) counts.tooLate += Number(value);
  }
  return counts;
}
