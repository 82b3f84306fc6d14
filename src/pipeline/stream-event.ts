import type { EventRow } from '../storage/event-store.js';

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
