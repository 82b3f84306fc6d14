/**
 * The live user sockets of this node, by project and user. Sets of socket ids, not counters:
 * a socket that joins twice counts once and one that leaves twice (or never joined) changes
 * nothing, so the count cannot drift, least of all below 0.
 */
export function createSocketTally() {
  const byProject = new Map<string, Map<string, Set<string>>>();

  const count = (project: string, userId: string) => byProject.get(project)?.get(userId)?.size ?? 0;

  return {
    count,
    /** Adds the socket; returns the user's count after. */
    join(project: string, userId: string, socketId: string): number {
      const users = byProject.get(project) ?? byProject.set(project, new Map()).get(project)!;
      const sockets = users.get(userId) ?? users.set(userId, new Set()).get(userId)!;
      sockets.add(socketId);
      return sockets.size;
    },
    /** Removes the socket; returns the user's count after. */
    leave(project: string, userId: string, socketId: string): number {
      const users = byProject.get(project);
      const sockets = users?.get(userId);
      if (!users || !sockets) return 0;
      sockets.delete(socketId);
      if (sockets.size > 0) return sockets.size;
      users.delete(userId);
      if (users.size === 0) byProject.delete(project);
      return 0;
    },
    /** Every user with a socket here, with its count. */
    *entries(): Generator<[project: string, userId: string, count: number]> {
      for (const [project, users] of byProject)
        for (const [userId, sockets] of users) yield [project, userId, sockets.size];
    },
    clear: () => byProject.clear(),
  };
}

export type SocketTally = ReturnType<typeof createSocketTally>;
