import type { WebSocket } from 'uWebSockets.js';
import type { TokenBucket } from '../../lib/token-bucket.js';
import type { FeedCursor } from './live-feed.js';
import type { SocketState } from '../socket-writer.js';
import type { StreamViewer } from '../stream-access.js';

/** One `sub` of a dashboard. */
export interface Subscription {
  id: string | number;
  stream: string;
  key: string | undefined;
  /** `${project}/${stream}/${'*' | 'k:' + key}`: whom an update of a window reaches. */
  audience: string;
  topic: string;
  /** While its dashboard is behind: how far it has read its audience's feed. */
  cursor?: FeedCursor | undefined;
}

/** What a `/v1/live` socket carries. */
export interface LiveSocketState extends SocketState {
  /** Whose streams it reads, and which (see stream-access.ts). */
  viewer: StreamViewer;
  /** A socket with no credential takes its messages from a bucket of its own. */
  bucket: TokenBucket | undefined;
  subs: Map<string, Subscription>;
  /** Off the topics, reading the slow feeds until its socket drains (see slow-dashboards.ts). */
  behind: boolean;
  badFrames: number;
}

export type LiveSocket = WebSocket<LiveSocketState>;
