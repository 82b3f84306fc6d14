import { readFileSync } from 'node:fs';
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

/** The processes of a run and the whole machine over the same window. */
export interface CpuWindow {
  processes: ProcessCpu[];
  /** Every process on the machine (other work too), from /proc/stat; undefined off Linux. */
  machinePercent: number | undefined;
}

// A share of a core (or of the machine) past which that is taken as what bounds throughput:
// /proc samples at clock-tick resolution, and a saturated thread rarely reads a full 100 %.
const saturated = 0.85;

/**
 * Samples the CPU of several processes, and of the machine, over the same window, from /proc.
 *
 * @example
 * const watch = watchCpu([{ name: 'node 1', pid }, { name: 'redis-server', pid: redis.pid }]);
 * await load();
 * watch.read(); // { processes: [{ name: 'node 1', percent: 96.1, mainThreadPercent: 88 }, …], … }
 */
export function watchCpu(processes: ReadonlyArray<{ name: string; pid: number }>) {
  const samples = processes.map(({ name, pid }) => ({ name, sample: startCpuSample(pid) }));
  const machineAtStart = machineTicks();
  return {
    read(): CpuWindow {
      const machineNow = machineTicks();
      const measured = samples.flatMap(({ name, sample }) => {
        const s = sample.read();
        if (!s || s.wallSeconds <= 0) return [];
        const percent = (seconds: number) => Math.round((seconds / s.wallSeconds) * 1000) / 10;
        return [
          { name, percent: percent(s.cpuSeconds), mainThreadPercent: percent(s.mainThreadSeconds) },
        ];
      });
      return { processes: measured, machinePercent: machinePercent(machineAtStart, machineNow) };
    },
  };
}

/**
 * What bounded a load, judged from CPU alone: the machine's cores near full (by this run's
 * processes, or by other work sharing them), else one main thread near a full core, else
 * none (the load waited: on fsyncs, on replies, on the frames allowed in flight).
 */
export function cpuBound({ processes, machinePercent }: CpuWindow, cores: number): string {
  const ours = Math.round(processes.reduce((sum, p) => sum + p.percent, 0));
  const capacity = cores * 100;
  const busy = Math.max(ours, Math.round(machinePercent ?? 0));
  if (busy >= saturated * capacity) {
    const others = busy - ours;
    const shared = others > 0.15 * capacity ? `, ${others} % by other work on the machine` : '';
    return `the machine's ${cores} cores: ${busy} % of ${capacity} % busy, ${ours} % by this run's processes${shared}`;
  }
  const main = (p: ProcessCpu) => p.mainThreadPercent ?? 0;
  const busiest = [...processes].sort((a, b) => main(b) - main(a))[0];
  if (busiest?.mainThreadPercent !== undefined && busiest.mainThreadPercent >= saturated * 100)
    return `${busiest.name}'s main thread at ${busiest.mainThreadPercent} % of one core`;
  return `no CPU limit (${busy} % of ${capacity} % busy): the load waited (fsyncs, replies, frames in flight)`;
}

/** `node 1 96.1 % (main 88.0 %), …; machine 190.0 %` for a table cell. */
export function describeCpu({ processes, machinePercent }: CpuWindow): string {
  const main = (p: ProcessCpu) =>
    p.mainThreadPercent === undefined ? '' : ` (main ${p.mainThreadPercent.toFixed(1)} %)`;
  const each = processes.map((p) => `${p.name} ${p.percent.toFixed(1)} %${main(p)}`).join(', ');
  return machinePercent === undefined
    ? each
    : `${each}; whole machine ${machinePercent.toFixed(1)} %`;
}

interface Ticks {
  busy: number;
  total: number;
  cores: number;
}

/** The `cpu` line of /proc/stat: ticks since boot, idle and iowait apart from the rest. */
function machineTicks(): Ticks | undefined {
  try {
    const stat = readFileSync('/proc/stat', 'utf8');
    const fields = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = fields[3]! + fields[4]!;
    const cores = stat.split('\n').filter((line) => /^cpu\d/.test(line)).length;
    return { busy: total - idle, total, cores };
  } catch {
    return undefined;
  }
}

function machinePercent(start: Ticks | undefined, end: Ticks | undefined): number | undefined {
  if (!start || !end || end.total <= start.total) return undefined;
  const share = (end.busy - start.busy) / (end.total - start.total);
  return Math.round(share * end.cores * 1000) / 10;
}
