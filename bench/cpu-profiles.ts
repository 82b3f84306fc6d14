/**
 * `npm run bench -- --profile`: every server a scenario starts (listening-process.ts) runs
 * with Node's `--cpu-prof` into a folder of that run and scenario beside the results
 * (`bench/results/<run>-<scenario>/`, kept out of git); once the scenario ended, each
 * process's profile is read into its top self-time functions for the Markdown, so every
 * figure can be explained. Profiles are written when a process exits by itself (backline
 * and the peers exit on SIGTERM); one killed with SIGKILL leaves none.
 */
import { mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { summarizeProfile, type ProfileSummary } from './cpu-profile-summary.js';
import { projectRoot } from './project-root.js';

/** One server process of a profiled scenario and what its profile says. */
export interface ProcessProfile {
  pid: number;
  /** `node <args>` without the profiling flags. */
  command: string;
  /** Node's thread number: 0 the main thread, others a worker's (each writes its own). */
  thread?: number;
  /** The `.cpuprofile` from the project root; absent when none was written. */
  file?: string;
  summary?: ProfileSummary;
}

// Node's default name: CPU.<yyyymmdd>.<hhmmss>.<pid>.<thread>.<sequence>.cpuprofile
const profileName = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/;

let current: { dir: string; started: Array<{ pid: number; command: string }> } | undefined;

/** Node flags for a server started now: `--cpu-prof` into the scenario's folder, or none. */
export function profileFlags(): string[] {
  return current ? ['--cpu-prof', '--cpu-prof-dir', current.dir] : [];
}

/** Called with each server started under profileFlags(), to find its profile by pid. */
export function noteStarted(pid: number, args: readonly string[]): void {
  current?.started.push({ pid, command: `node ${args.join(' ')}` });
}

/**
 * Profiles the servers started from now until `finish()`, which answers what each one's
 * profile says (the folder is removed again if no server was started).
 *
 * @example
 * const profiling = profileServers('bench/results/2026-12-01T08-00-00Z-history');
 * const result = await scenario.run(options, results);
 * result.profiles = profiling.finish();
 */
export function profileServers(dir: string): { finish(): ProcessProfile[] } {
  mkdirSync(dir, { recursive: true });
  const mine: NonNullable<typeof current> = { dir, started: [] };
  current = mine;
  return {
    finish() {
      if (current === mine) current = undefined;
      const files = readdirSync(dir).filter((file) => profileName.test(file));
      if (files.length === 0 && mine.started.length === 0) rmdirSync(dir);
      return mine.started.flatMap(({ pid, command }): ProcessProfile[] => {
        const own = files.filter((name) => Number(profileName.exec(name)?.[1]) === pid).sort();
        if (own.length === 0) return [{ pid, command }];
        return own.map((file) => {
          const path = join(dir, file);
          const thread = Number(profileName.exec(file)?.[2]);
          const summary = summarizeProfile(path);
          return { pid, command, thread, file: relative(projectRoot, path), summary };
        });
      });
    },
  };
}

/** The Markdown of a scenario's profiles: per process, its file and top functions. */
export function renderProfiles(profiles: readonly ProcessProfile[] | undefined): string[] {
  if (!profiles?.length) return [];
  const lines = ['', "CPU profiles (`--profile`; self time, share of the thread's busy time):"];
  for (const { pid, command, thread, file, summary } of profiles) {
    const which = thread ? `pid ${pid} thread ${thread}` : `pid ${pid}`;
    lines.push(
      '',
      `- ${which}, \`${command}\`: ${file ? `\`${file}\`` : 'no profile written (killed)'}`,
    );
    if (!summary) continue;
    const busy = summary.sampledMs - summary.idleMs;
    lines.push(
      `  ${(summary.sampledMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy`,
      '',
      '| self | share | function | where |',
      '|---:|---:|---|---|',
      ...summary.top.map(
        (f) =>
          `| ${f.selfMs.toFixed(0)} ms | ${(f.share * 100).toFixed(1)}% | ${code(f.fn)} | ${f.where ? code(f.where) : ''} |`,
      ),
    );
  }
  return lines;
}

// A table cell: `|` would end the cell, even inside code.
const code = (text: string) => `\`${text.replaceAll('|', '\\|')}\``;
