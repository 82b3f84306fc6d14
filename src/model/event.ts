/** One accepted event as stored in the `events` table (times in epoch milliseconds). */
export interface EventRow {
  project: string;
  type: string;
  ts: number;
  client_ts: number;
  sent_at: number | null;
  received_at: number;
  id: string;
  user_id: string;
  anonymous_id: string;
  session_id: string;
  /** props as JSON text */
  props: string;
}

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

/** The pipeline's view of a stored row; `props` is the parsed object (from ingest or JSON). */
export function toStreamEvent(row: EventRow, props: Record<string, unknown>): StreamEvent {
  return {
    id: row.id,
    type: row.type,
    ts: row.ts,
    userId: row.user_id,
    anonymousId: row.anonymous_id,
    sessionId: row.session_id,
    props,
  };
}
