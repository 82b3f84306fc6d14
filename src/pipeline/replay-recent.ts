import type { Logger } from '../ops/logger.js';
import type { EventStore } from '../storage/event-store.js';
import type { PipelineService } from './pipeline-service.js';
import { toStreamEvent } from '../model/event.js';
import type { StreamSpec } from './stream-spec.js';

export const defaultReplayOptions = {
  maxEventsPerStream: 1_000_000, // bound on what one stream re-reads at start
  frameSize: 1000, // events per frame fed to the stream
  maxSessionMs: 3600_000, // how far back a session window is rebuilt
};

/**
 * Open windows live in memory; after a restart each stream re-reads from ClickHouse the
 * stored events that can still belong to a window not yet final or within its lateness
 * (window length + out-of-orderness + allowed lateness before its newest stored event), in
 * event-time order. Windows that
 * should have closed while the server was down close during the replay and are written;
 * the others are open again with every event they had. A window that starts before the
 * reading does had closed past its lateness before the restart: the replay holds only part
 * of it, so it is not written again (its stored final stands).
 */
export async function replayRecent(
  deps: { store: EventStore; pipeline: PipelineService; log: Logger },
  project: string,
  options: Partial<typeof defaultReplayOptions> = {},
  now = Date.now(),
): Promise<number> {
  const opts = { ...defaultReplayOptions, ...options };
  let total = 0;
  for (const spec of deps.pipeline.streams(project)) {
    // Counted back from the stream's newest stored event, not from now: a window open at
    // shutdown is rebuilt however long the server was down.
    const latest = await deps.store.latestTs(project, spec.source.types);
    if (latest === undefined) continue;
    const since = Math.min(now, latest) - reach(spec, opts.maxSessionMs);
    const rows = await deps.store.eventsSince(
      project,
      since,
      spec.source.types,
      opts.maxEventsPerStream,
    );
    if (rows.length === opts.maxEventsPerStream) {
      deps.log.warn(
        { project, stream: spec.name, events: rows.length },
        'replay truncated: windows may miss older events',
      );
    }
    for (let i = 0; i < rows.length; i += opts.frameSize) {
      deps.pipeline.replay(
        project,
        spec.name,
        rows
          .slice(i, i + opts.frameSize)
          .map((row) => toStreamEvent(row, JSON.parse(row.props) as Record<string, unknown>)),
        since,
      );
    }
    total += rows.length;
  }
  return total;
}

/**
 * A stream as a partition owner's takeover reads it (src/cluster/compute): its types, and
 * how far before its newest event its open windows can reach back (`reachMs`).
 */
export const streamReach = (
  spec: StreamSpec,
  maxSessionMs = defaultReplayOptions.maxSessionMs,
) => ({
  name: spec.name,
  types: spec.source.types,
  reachMs: reach(spec, maxSessionMs),
});

function reach(spec: StreamSpec, maxSessionMs: number): number {
  const length = spec.window.kind === 'session' ? maxSessionMs : spec.window.sizeMs;
  return length + spec.outOfOrderMs + spec.allowedLatenessMs;
}
