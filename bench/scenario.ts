import type { ProcessProfile } from './cpu-profiles.js';
import type { LoadAverageSummary } from './load-average.js';
import type { BenchOptions } from './options.js';

/**
 * What every scenario hands back to the runner. `figures` go to the JSON file as they are;
 * `table` is the scenario's own choice of rows for the Markdown summary, so the runner
 * renders any scenario without knowing its figures.
 */
export interface ScenarioResult {
  scenario: string;
  /** False when the scenario measured nothing trustworthy (server down, zero acks, …). */
  ok: boolean;
  failure?: string;
  figures: Record<string, unknown>;
  table: Array<[label: string, value: string]>;
  /** Every process the scenario started, as a reader would start it again. */
  commands?: string[];
  /** What a reader needs to read the figures right: what differs between compared servers. */
  notes?: string[];
  /** The machine's 1-minute load average while it ran; set by the runner. */
  loadAverage?: LoadAverageSummary;
  /** With `--profile`: each server process's CPU profile and top functions; set by the runner. */
  profiles?: ProcessProfile[];
}

export interface Scenario {
  name: string;
  /** Warm-up + measured loads it runs (1 if absent); the runner's watchdog allows for them. */
  loads?: number;
  /** For a scenario not paced by loads: the longest it may take, which the watchdog allows. */
  maxMs?(options: BenchOptions): number;
  /** `earlier` holds the results of the scenarios before it in the same run. */
  run(options: BenchOptions, earlier: readonly ScenarioResult[]): Promise<ScenarioResult>;
}

export function failedResult(
  scenario: string,
  err: unknown,
  commands: string[] = [],
): ScenarioResult {
  const failure = err instanceof Error ? err.message : String(err);
  return { scenario, ok: false, failure, figures: {}, table: [], commands };
}
