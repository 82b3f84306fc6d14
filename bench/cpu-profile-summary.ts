/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) into the functions that spent the
 * most time on the main thread themselves (self time), so a report can say where a server's
 * CPU went without opening a profiler. Only the JavaScript thread is sampled: time in
 * ClickHouse's own threads (chdb's async queries) shows as idle here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './project-root.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** The parts of the `.cpuprofile` JSON (Chrome DevTools protocol `Profile`) read here. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  startTime: number;
  endTime: number;
  /** The node on top of the stack at each sample. */
  samples: number[];
  /** µs from the sample before (the profile's start for the first) to each sample. */
  timeDeltas: number[];
}

export interface SelfTime {
  /** `(anonymous)` for an unnamed function; `(program)`, `(garbage collector)` as V8 names them. */
  fn: string;
  /**
   * `path:line:column` from the project root, `node:…` for Node's own code; '' for V8's
   * entries. Of the code V8 ran: tsx compiles each TypeScript file to one line, so for those
   * the column finds the function.
   */
  where: string;
  selfMs: number;
  /** Of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  sampledMs: number;
  idleMs: number;
  top: SelfTime[];
}

// V8's entries that are not work of the process: waiting for I/O, and the tree's root.
const notWork = new Set(['(idle)', '(root)']);

/** The profile at `file`, read into its `top` functions by self time. */
export function summarizeProfile(file: string, top = 10): ProfileSummary {
  return summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top);
}

export function summarize(profile: CpuProfile, top = 10): ProfileSummary {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, { fn: string; where: string; us: number }>();
  let sampledUs = 0;
  let idleUs = 0;
  // A sample stands for the time until the next one (the last one: until the profile's end).
  let at = profile.startTime;
  const times = profile.timeDeltas.map((delta) => (at += delta));
  profile.samples.forEach((id, i) => {
    const us = Math.max(0, (times[i + 1] ?? profile.endTime) - times[i]!);
    const frame = frames.get(id);
    if (!frame) return;
    sampledUs += us;
    if (notWork.has(frame.functionName)) {
      idleUs += us;
      return;
    }
    const fn = frame.functionName || '(anonymous)';
    const where = location(frame);
    const key = `${fn}\u0000${where}`;
    const entry = byFunction.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  });
  const busyUs = sampledUs - idleUs;
  const ranked = [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, top);
  return {
    sampledMs: sampledUs / 1000,
    idleMs: idleUs / 1000,
    top: ranked.map(({ fn, where, us }) => ({
      fn,
      where,
      selfMs: us / 1000,
      share: busyUs > 0 ? us / busyUs : 0,
    })),
  };
}

function location({ url, lineNumber, columnNumber }: CallFrame): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const shown = path.startsWith(projectRoot) ? path.slice(projectRoot.length) : path;
  return `${shown}:${lineNumber + 1}:${columnNumber + 1}`;
}
