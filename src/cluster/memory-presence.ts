import type { Presence } from './presence.js';
import { createSocketTally } from './socket-tally.js';

/**
 * Single-node Presence: the sockets this process holds are all there are.
 *
 * @example
 * const presence = createMemoryPresence();
 * await presence.join('dev', 'u42', socketId);
 */
export function createMemoryPresence(): Presence {
  const tally = createSocketTally();
  return {
    async join(project, userId, socketId) {
      tally.join(project, userId, socketId);
    },
    async leave(project, userId, socketId) {
      tally.leave(project, userId, socketId);
    },
    online: async (project, userId) => tally.count(project, userId) > 0,
    async close() {
      tally.clear();
    },
  };
}
