export const defaultDedupOptions = {
  windowMs: 3600_000, // an id is remembered at least this long (and at most twice this long)…
  maxIds: 2_000_000, // …unless this many ids came in first: memory is bounded either way
};

/**
 * The ids accepted recently, per project, in two generations: lookups check both, and the
 * older one is dropped whole when the newer is full or older than the window. Remembering
 * costs one Set entry per id and no timers.
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
  let current = new Set<string>();
  let previous = new Set<string>();
  let currentSince = now();

  const keyOf = (project: string, id: string) => `${project}\u0000${id}`;
  const rotateIfDue = () => {
    if (current.size >= maxIds / 2 || now() - currentSince >= windowMs) {
      previous = current;
      current = new Set();
      currentSince = now();
    }
  };

  return {
    has(project: string, id: string): boolean {
      const key = keyOf(project, id);
      return current.has(key) || previous.has(key);
    },
    add(project: string, id: string): void {
      rotateIfDue();
      current.add(keyOf(project, id));
    },
    /** Used when accepted events could not be made durable, so a retry is accepted again. */
    forget(project: string, id: string): void {
      const key = keyOf(project, id);
      current.delete(key);
      previous.delete(key);
    },
    get size(): number {
      return current.size + previous.size;
    },
  };
}

export type DedupWindow = ReturnType<typeof createDedupWindow>;
