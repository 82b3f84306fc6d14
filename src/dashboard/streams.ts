/** An aggregate of a stream: what its values count, for axis titles. */
export interface AggregateInfo {
  name: string;
  fn: string;
  field?: string;
}

/** What the dashboard reads of a stream spec from `GET /v1/streams`. */
export interface StreamInfo {
  name: string;
  groupBy: string[];
  aggregates: AggregateInfo[];
  window: { kind: string; sizeMs?: number; slideMs?: number; gapMs?: number };
  emit: { mode: string };
}

/** The key's streams; throws with the server's error code when the key is refused. */
export async function fetchStreams(key: string): Promise<StreamInfo[]> {
  const res = await fetch('/v1/streams', { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as { streams?: StreamInfo[]; code?: string; msg?: string };
  if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.msg ?? 'request failed'}`);
  return body.streams ?? [];
}

/** `votes_per_show · tumbling 1 min by props.showId · early` */
export function describeStream(stream: StreamInfo): string {
  const { kind, sizeMs, slideMs, gapMs } = stream.window;
  const span =
    kind === 'session'
      ? `session gap ${duration(gapMs)}`
      : `${kind} ${duration(sizeMs)}${slideMs ? ` every ${duration(slideMs)}` : ''}`;
  const by = stream.groupBy.length > 0 ? ` by ${stream.groupBy.join(', ')}` : '';
  return `${stream.name} · ${span}${by} · ${stream.emit.mode}`;
}

function duration(ms = 0): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
