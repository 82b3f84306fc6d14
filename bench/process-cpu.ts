import { startCpuSample } from './proc-stats.js';

/** CPU one process used over a measured window, in percent of one core (two full: 200 %). */
export interface ProcessCpu {
  name: string;
  /** All its threads (chdb's, libuv's, V8's helpers). */
  percent: number;
  /**
   * Its main thread alone: a Node event loop, or Redis's command thread. Absent for a group
   * of processes (the load workers report their CPU themselves).
   */
  mainThreadPercent?: number;
}

// A share of a core (or of the machine) past which that is taken as what bounds throughput:
// /proc samples at clock-tick resolution, and a saturated thread rarely reads a full 100 %.
const saturated = 0.85;

/**
 * Samples the CPU of several processes over the same window, from /proc.
 *
 * @example
 * const watch = watchCpu([{ name: 'node 1', pid }, { name: 'redis-server', pid: redis.pid }]);
 * await load();
 * watch.read(); // [{ name: 'node 1', percent: 96.1, mainThreadPercent: 88.0 }, …]
 */
export function watchCpu(processes: ReadonlyArray<{ name: string; pid: number }>) {
  const samples = processes.map(({ name, pid }) => ({ name, sample: startCpuSample(pid) }));
  return {
    read(): ProcessCpu[] {
      return samples.flatMap(({ name, sample }) => {
        const s = sample.read();
        if (!s || s.wallSeconds <= 0) return [];
        const percent = (seconds: number) => Math.round((seconds / s.wallSeconds) * 1000) / 10;
        return [
          { name, percent: percent(s.cpuSeconds), mainThreadPercent: percent(s.mainThreadSeconds) },
        ];
      });
    },
  };
}

/**
 * What bounded a load, judged from CPU alone: every process together near the machine's
 * cores, else one main thread near a full core, else none (the load waited: on fsyncs, on
 * replies, on the frames allowed in flight).
 */
export function cpuBound(processes: readonly ProcessCpu[], cores: number): string {
  const total = Math.round(processes.reduce((sum, p) => sum + p.percent, 0));
  if (total >= saturated * cores * 100)
    return `the machine's ${cores} cores: all processes together used ${total} % of ${cores * 100} %`;
  const main = (p: ProcessCpu) => p.mainThreadPercent ?? 0;
  const busiest = [...processes].sort((a, b) => main(b) - main(a))[0];
  if (busiest?.mainThreadPercent !== undefined && busiest.mainThreadPercent >= saturated * 100)
    return `${busiest.name}'s main thread at ${busiest.mainThreadPercent} % of one core`;
  return `no CPU limit (${total} % of ${cores * 100} % in all): the load waited (fsyncs, replies, frames in flight)`;
}

/** `node 1 96.1 % (main 88.0 %), …` for a table cell. */
export function describeCpu(processes: readonly ProcessCpu[]): string {
  const main = (p: ProcessCpu) =>
    p.mainThreadPercent === undefined ? '' : ` (main ${p.mainThreadPercent.toFixed(1)} %)`;
  return processes.map((p) => `${p.name} ${p.percent.toFixed(1)} %${main(p)}`).join(', ');
}
