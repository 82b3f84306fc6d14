/** An accepted event as the pipeline sees it: props parsed, times in epoch ms. */
export interface StreamEvent {
  id: string;
  type: string;
  ts: number;
  userId: string;
  anonymousId: string;
  sessionId: string;
  props: Record<string, unknown>;
}

/** A window's result as dashboards, storage and history see it. */
export interface WindowResult {
  stream: string;
  start: number;
  end: number;
  key: string;
  values: Record<string, unknown>;
  final: boolean;
  rev: number;
}
