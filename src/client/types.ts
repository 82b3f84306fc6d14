/**
 * Protocol v1 as the client sees it (README "Wire protocol v1"). Only types: the client must
 * run in browsers, so nothing here may touch Node or the DOM.
 */

import type { WindowResult } from '../model/window-result.js';

/** Values `props` may hold: what both MessagePack and JSON (the offline queue) carry. */
export type PropValue =
  string | number | boolean | null | PropValue[] | { [key: string]: PropValue };

export type Props = Record<string, PropValue>;

/** An event as it goes on the wire; `sentAt` is stamped per frame, at send time. */
export interface ClientEvent {
  id: string;
  type: string;
  /** When it happened, epoch ms by the client's clock. */
  ts: number;
  userId?: string;
  anonymousId?: string;
  sessionId?: string;
  props?: Props;
}

/** `{t:"ack"}`: `accepted + duplicates + rejected.length` is the number of events in the frame. */
export interface IngestAck {
  t: 'ack';
  seq: number;
  accepted: number;
  duplicates: number;
  rejected: Array<{ i: number; code: string; msg: string }>;
}

/**
 * `{t:"error"}` on any socket: a whole frame (ingest, `seq`), a subscription (live, `id`) or a
 * frame of the user socket refused.
 */
export interface ServerError {
  t: 'error';
  code: string;
  msg: string;
  seq?: number;
  id?: string | number;
  retryAfterMs?: number;
}

/** A window result of a metric stream, as `/v1/live` pushes it. */
export type LiveWindow = WindowResult;

/** A notification from `/v1/user`, as `onNotification` gets it. */
export interface InboxNotification {
  /** Time-ordered: a later notification has a greater id (string order). */
  id: string;
  category: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  /** When it was sent, epoch ms. */
  ts: number;
  seen: boolean;
  read: boolean;
  /**
   * Pushed as it was sent (new: neither seen nor read), rather than brought back from the
   * inbox when a socket (re)connected: what a toast should pop up for.
   */
  live: boolean;
}

/** `{t:"counts"}` of the user's inbox; archived items are not counted. */
export interface InboxCounts {
  unread: number;
  unseen: number;
  total: number;
}

/** What `{t:"marked", as, ids}` says was done to the items `ids`. */
export type MarkedAs = 'read' | 'seen' | 'archived';

/** Events a socket reports; `data` is an ArrayBuffer once `binaryType` is `'arraybuffer'`. */
export interface SocketMessageEvent {
  data: unknown;
}

export interface SocketCloseEvent {
  code: number;
  reason: string;
}

/**
 * The part of the WHATWG `WebSocket` the client uses: the browser's global, or the `ws`
 * package in Node. Handler parameters are `never` so that either implementation's own event
 * types are accepted.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;
