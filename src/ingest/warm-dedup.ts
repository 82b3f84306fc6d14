import type { EventStore } from '../storage/event-store.js';
import type { DedupWindow } from './dedup-window.js';

/**
 * Refills the de-duplication window after a restart with the ids stored in the last window,
 * so a client that resends a frame whose ack the crash swallowed gets `duplicates`, and
 * each event is stored once.
 */
export async function warmDedup(
  dedup: DedupWindow,
  store: EventStore,
  options: { windowMs: number; maxIds: number; now?: number },
): Promise<number> {
  const since = (options.now ?? Date.now()) - options.windowMs;
  const ids = await store.recentIds(since, Math.floor(options.maxIds / 2));
  for (const [project, id] of ids) dedup.add(project, id);
  return ids.length;
}
