/**
 * A window's result as dashboards, storage and history see it, and as `/v1/live` and
 * `/v1/streams/:name/windows` carry it (the client library's `LiveWindow`).
 */
export interface WindowResult {
  stream: string;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  /** The group-by values joined by `|`; `''` for a stream without grouping. */
  key: string;
  /** Aggregate name → result (a number, `{p50, p95…}` for quantiles, `[{value, count}]` for topK). */
  values: Record<string, unknown>;
  final: boolean;
  /** Grows with every emission of the window. */
  rev: number;
}
