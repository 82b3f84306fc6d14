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
}

export interface Scenario {
  name: string;
  run(options: BenchOptions): Promise<ScenarioResult>;
}
