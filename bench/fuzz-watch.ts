import type { ServerProcess } from './server-process.js';

export interface WatchResult {
  rssStartBytes: number;
  rssPeakBytes: number;
  rssEndBytes: number;
  rssSamples: number;
  /** `/healthz` round trips during the run: each shows how long the event loop kept it waiting. */
  healthzChecks: number;
  healthzMaxMs: number;
  healthzP99Ms: number;
  /** Checks that got no 200 within `healthzTimeoutMs`: the server hung or was gone. */
  healthzFailures: number;
  /** The process was seen gone at a sample. */
  died: boolean;
}

export const defaultWatchOptions = {
  rssEveryMs: 250, // /proc/<pid>/status
  healthzEveryMs: 500,
  // On a loaded 2-core machine a busy server answers in seconds; one this late has hung.
  healthzTimeoutMs: 30_000,
};

/**
 * Samples the server's RSS from /proc and times `/healthz` until `stop()`: the run's memory
 * bound and its stall detector.
 *
 * @example
 * const watch = watchServer(server);
 * await fuzz();
 * const { rssPeakBytes, healthzMaxMs } = await watch.stop();
 */
export function watchServer(server: ServerProcess, options = defaultWatchOptions) {
  const start = server.rssBytes() ?? 0;
  const result = { rssStartBytes: start, rssPeakBytes: start, rssEndBytes: start, rssSamples: 1 };
  const rounds: number[] = [];
  let failures = 0;
  let died = false;
  const sampleRss = () => {
    const rss = server.rssBytes();
    if (rss === undefined) return void (died = !server.alive());
    result.rssSamples += 1;
    result.rssPeakBytes = Math.max(result.rssPeakBytes, rss);
    result.rssEndBytes = rss;
  };
  const rssTimer = setInterval(sampleRss, options.rssEveryMs);
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const startedAt = performance.now();
      try {
        const res = await fetch(`http://127.0.0.1:${server.port}/healthz`, {
          signal: AbortSignal.timeout(options.healthzTimeoutMs),
        });
        await res.arrayBuffer();
        if (res.status === 200) rounds.push(performance.now() - startedAt);
        else failures += 1;
      } catch {
        failures += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, options.healthzEveryMs));
    }
  })();
  return {
    async stop(): Promise<WatchResult> {
      clearInterval(rssTimer);
      sampleRss();
      probing = false;
      await probe;
      const sorted = [...rounds].sort((a, b) => a - b);
      return {
        ...result,
        healthzChecks: rounds.length + failures,
        healthzMaxMs: sorted[sorted.length - 1] ?? 0,
        healthzP99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
        healthzFailures: failures,
        died,
      };
    },
  };
}
