import { loadavg } from 'node:os';

/**
 * The 1-minute load average over one scenario. It counts this run's own processes (servers,
 * nodes, redis-server, load workers) as well as other work on the machine, so it says how
 * crowded the cores were, not by whom; the scenarios that measure CPU say that.
 */
export interface LoadAverageSummary {
  start: number;
  mean: number;
  max: number;
  end: number;
}

// The kernel updates the 1-minute average every 5 s; sampling faster repeats its values.
const sampleEveryMs = 5000;

/**
 * Samples the 1-minute load average from now until `stop()`; 0 throughout off Unix.
 *
 * @example
 * const load = watchLoadAverage();
 * await scenario.run(options, results);
 * load.stop(); // { start: 1.6, mean: 4.2, max: 6.9, end: 5.1 }
 */
export function watchLoadAverage() {
  const read = () => Math.round(loadavg()[0]! * 100) / 100;
  const samples = [read()];
  const timer = setInterval(() => samples.push(read()), sampleEveryMs).unref();
  return {
    stop(): LoadAverageSummary {
      clearInterval(timer);
      samples.push(read());
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      return {
        start: samples[0]!,
        mean: Math.round(mean * 100) / 100,
        max: Math.max(...samples),
        end: samples.at(-1)!,
      };
    },
  };
}
