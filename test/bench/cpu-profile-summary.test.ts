import { describe, expect, it } from 'vitest';
import { summarize, type CpuProfile } from '../../bench/cpu-profile-summary.js';
import { projectRoot } from '../../bench/listening-process.js';

const frame = (functionName: string, url = '', lineNumber = -1, columnNumber = -1) => ({
  functionName,
  url,
  lineNumber,
  columnNumber,
});

// Two call sites of `decode` (one function, two nodes of the tree), idle time, GC.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('decode', `file://${projectRoot}src/ingest/decode-frame.ts`, 9, 4) },
    { id: 4, callFrame: frame('decode', `file://${projectRoot}src/ingest/decode-frame.ts`, 9, 4) },
    { id: 5, callFrame: frame('', 'node:internal/streams/readable', 99, 0) },
    { id: 6, callFrame: frame('(garbage collector)') },
  ],
  startTime: 1_000_000,
  endTime: 1_010_000,
  samples: [3, 2, 4, 5, 6, 3],
  // Sample times 1,000,000 + 1,000, 2,000, 5,000, 6,000, 7,000, 9,000 µs; each sample lasts
  // until the next one, the last until the profile's end.
  timeDeltas: [1000, 1000, 3000, 1000, 1000, 2000],
};

describe('CPU profile summary (bench/cpu-profile-summary.ts)', () => {
  it('ranks functions by self time over all their call sites, idle apart', () => {
    const summary = summarize(profile, 10);
    expect(summary.sampledMs).toBe(9);
    expect(summary.idleMs).toBe(3);
    expect(summary.top).toEqual(
      [
        { fn: 'decode', where: 'src/ingest/decode-frame.ts:10:5', selfMs: 3, share: 0.5 },
        {
          fn: '(anonymous)',
          where: 'node:internal/streams/readable:100:1',
          selfMs: 1,
          share: 1 / 6,
        },
        { fn: '(garbage collector)', where: '', selfMs: 2, share: 2 / 6 },
      ].sort((a, b) => b.selfMs - a.selfMs),
    );
  });

  it('keeps only the top ones', () => {
    expect(summarize(profile, 1).top.map((f) => f.fn)).toEqual(['decode']);
  });
});
