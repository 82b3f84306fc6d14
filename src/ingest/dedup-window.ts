export const defaultDedupOptions = {
  windowMs: 3600_000, // an id is remembered at least this long (and at most twice this long)…
  maxIds: 2_000_000, // …unless this many ids came in first: memory is bounded either way
};

/**
 * The ids accepted recently, per project, in two generations: lookups check both, and the
 * older one is dropped whole when the newer is full or older than the window. Remembering
 * costs one Set entry per id and no timers. Ids are kept in a Set per project rather than
 * under a joined key: joining made `has` a tenth of the ingest profile.
 *
 * @example
 * const seen = createDedupWindow();
 * seen.add('dev', 'e1'); seen.has('dev', 'e1'); // true
 */
export function createDedupWindow(
  options: Partial<typeof defaultDedupOptions> = {},
  now = Date.now,
) {
  const { windowMs, maxIds } = { ...defaultDedupOptions, ...options };
  let current = new Map<string, Set<string>>();
  let previous = new Map<string, Set<string>>();
  let currentSize = 0;
  let previousSize = 0;
  let currentSince = now();

  const rotateIfDue = () => {
    if (currentSize >= maxIds / 2 || now() - currentSince >= windowMs) {
      previous = current;
      previousSize = currentSize;
      current = new Map();
      currentSize = 0;
      currentSince = now();
    }
  };

  return {
    has(project: string, id: string): boolean {
      return current.get(project)?.has(id) === true || previous.get(project)?.has(id) === true;
    },
    add(project: string, id: string): void {
      rotateIfDue();
      let ids = current.get(project);
      if (!ids) current.set(project, (ids = new Set()));
      const before = ids.size;
      ids.add(id); // one lookup, not `has` then `add`: the window is a fifth of the transport's profile
      currentSize += ids.size - before;
    },
    /** Used when accepted events could not be made durable, so a retry is accepted again. */
    forget(project: string, id: string): void {
      if (current.get(project)?.delete(id)) currentSize -= 1;
      if (previous.get(project)?.delete(id)) previousSize -= 1;
    },
    get size(): number {
      return currentSize + previousSize;
    },
  };
}

export type DedupWindow = ReturnType<typeof createDedupWindow>;
