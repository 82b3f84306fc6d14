import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What the kernel reports about a process we started, read from /proc (Linux only). */

/** Resident set size, undefined once the process is gone or off Linux. */
export function readRssBytes(pid: number): number | undefined {
  const status = readProc(`/proc/${pid}/status`);
  const match = status && /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** User + system CPU time of all the process's threads (chdb's included), in seconds. */
export function readCpuSeconds(pid: number): number | undefined {
  const times = cpuTimesOf(readProc(`/proc/${pid}/stat`));
  return times && times.user + times.system;
}

/**
 * CPU time of the process's main thread alone, in seconds, user and system apart: for a Node
 * server, its JavaScript (decoding, validation, the stream pipeline, rules) and the socket
 * writes it makes, without chdb's, libuv's or V8's helper threads (concurrent GC).
 */
export function readMainThreadCpu(pid: number): { user: number; system: number } | undefined {
  return cpuTimesOf(readProc(`/proc/${pid}/task/${pid}/stat`));
}

function cpuTimesOf(stat: string | undefined): { user: number; system: number } | undefined {
  if (!stat) return undefined;
  // The command name (field 2) may hold spaces; the fields after its `)` are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime + stime)) return undefined;
  const ticks = clockTicksPerSecond();
  return { user: utime / ticks, system: stime / ticks };
}

/**
 * CPU use of `pid` between two readings, in percent of one core (two busy cores read 200 %).
 *
 * @example
 * const cpu = startCpuMeter(server.pid);
 * await load();
 * cpu.percent(); // 143.5
 */
export function startCpuMeter(pid: number) {
  const startCpu = readCpuSeconds(pid);
  const startAt = performance.now();
  return {
    percent(): number | undefined {
      const cpu = readCpuSeconds(pid);
      const seconds = (performance.now() - startAt) / 1000;
      if (cpu === undefined || startCpu === undefined || seconds <= 0) return undefined;
      return Math.round(((cpu - startCpu) / seconds) * 1000) / 10;
    },
  };
}

export interface CpuSample {
  wallSeconds: number;
  /** All threads. */
  cpuSeconds: number;
  mainThreadSeconds: number;
  /** The main thread's time in the kernel (socket reads and writes), part of the above. */
  mainThreadSystemSeconds: number;
}

/**
 * CPU time of `pid`, all threads and the main thread apart, between two readings.
 *
 * @example
 * const sample = startCpuSample(server.pid);
 * await load();
 * sample.read(); // { wallSeconds: 10, cpuSeconds: 14.2, mainThreadSeconds: 9.6, … }
 */
export function startCpuSample(pid: number) {
  const startAt = performance.now();
  const cpu = readCpuSeconds(pid);
  const main = readMainThreadCpu(pid);
  return {
    read(): CpuSample | undefined {
      const cpuNow = readCpuSeconds(pid);
      const mainNow = readMainThreadCpu(pid);
      if (cpu === undefined || main === undefined || cpuNow === undefined || mainNow === undefined)
        return undefined;
      return {
        wallSeconds: (performance.now() - startAt) / 1000,
        cpuSeconds: cpuNow - cpu,
        mainThreadSeconds: mainNow.user + mainNow.system - main.user - main.system,
        mainThreadSystemSeconds: mainNow.system - main.system,
      };
    },
  };
}

let ticks: number | undefined;

// /proc counts CPU time in clock ticks (USER_HZ); ask the system rather than assume 100.
function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
    ticks = Number(out.trim()) || 100;
  }
  return ticks;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
