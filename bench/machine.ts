import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { projectRoot } from './project-root.js';

export interface Machine {
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  node: string;
  platform: string;
  /** Hard limit on open files (sockets count) per process; undefined off Linux. */
  openFilesLimit?: number;
  /** 1-minute load average when the run started: other work sharing the cores (0 off Unix). */
  loadAverage: number;
  gitCommit: string;
  /** Tracked files differed from the commit, so the figures may not belong to it alone. */
  gitDirty: boolean;
}

/** Where the figures were measured; they only compare within one machine kind. */
export function describeMachine(): Machine {
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    openFilesLimit: openFilesLimit(),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    gitCommit: git(['rev-parse', '--short', 'HEAD']) ?? 'unknown',
    gitDirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
  };
}

/** `ulimit -Hn` as the kernel holds it for this process (`/proc/self/limits`, Linux). */
function openFilesLimit(): number | undefined {
  try {
    const line = /^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

function git(args: string[]): string | undefined {
  try {
    const out = execFileSync('git', args, {
      cwd: projectRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    return out.trim();
  } catch {
    return undefined;
  }
}
