/**
 * Who holds a live user socket (`/v1/user`), on any node: what the in-app channel asks
 * before choosing it. Async because in a cluster the answer lives in Redis.
 *
 * @example
 * await presence.join('dev', 'u42', socketId);
 * await presence.online('dev', 'u42'); // true, on every node
 */
export interface Presence {
  join(project: string, userId: string, socketId: string): Promise<void>;
  leave(project: string, userId: string, socketId: string): Promise<void>;
  online(project: string, userId: string): Promise<boolean>;
  close(): Promise<void>;
}
