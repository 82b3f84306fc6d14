import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { profileServers, renderProfiles } from '../../bench/cpu-profiles.js';
import { projectRoot, startListening } from '../../bench/listening-process.js';
import { parseOptions } from '../../bench/options.js';

// A server that first keeps its main thread busy in one named function, then listens on a
// loopback port and exits on SIGTERM, as backline and the bench's peers do.
const busyServer = `
function burnCpu(ms) { const until = Date.now() + ms; let x = 0; while (Date.now() < until) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + i); return x; }
burnCpu(400);
const server = require('node:net').createServer().listen(0, '127.0.0.1', () =>
  console.log('busy listening on 127.0.0.1:' + server.address().port));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
`;

const start = () =>
  startListening({
    args: ['-e', busyServer],
    env: process.env,
    listening: /^busy listening on 127\.0\.0\.1:(\d+)$/,
    startTimeoutMs: 30_000,
    stopTimeoutMs: 10_000,
  });

const root = mkdtempSync(join(tmpdir(), 'backline-profiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bench --profile (bench/cpu-profiles.ts)', () => {
  it('is a flag of the runner, off unless given', () => {
    expect(parseOptions([]).profile).toBe(false);
    expect(parseOptions(['--quick', '--profile', '--only', 'history']).profile).toBe(true);
  });

  it("profiles each server started while on, and names the busy function's self time", async () => {
    const dir = join(root, 'run-scenario');
    const profiling = profileServers(dir);
    const server = await start();
    expect(await server.stop()).toBe('exit code 0');
    const [profile, ...others] = profiling.finish();

    expect(others).toEqual([]);
    expect(profile!.pid).toBe(server.pid);
    expect(profile!.file).toMatch(/\.cpuprofile$/);
    const top = profile!.summary!.top;
    expect(top[0]!.fn).toBe('burnCpu');
    expect(top.length).toBeLessThanOrEqual(10);
    const markdown = renderProfiles([profile!]).join('\n');
    expect(markdown).toContain(profile!.file!);
    expect(markdown).toContain('`burnCpu`');
  });

  it('says so when a server was killed before it could write its profile', async () => {
    const profiling = profileServers(join(root, 'killed'));
    const server = await start();
    await server.kill();
    const [profile] = profiling.finish();
    expect(profile).toEqual({ pid: server.pid, command: expect.stringContaining('node -e') });
    expect(renderProfiles([profile!]).join('\n')).toContain('no profile written (killed)');
  });

  it('starts servers without --cpu-prof once the scenario finished', async () => {
    const dir = join(root, 'finished');
    profileServers(dir).finish();
    expect(existsSync(dir)).toBe(false); // no server: no folder left behind
    const server = await start();
    await server.stop();
    // Node writes to its working folder when --cpu-prof has no --cpu-prof-dir.
    const written = readdirSync(projectRoot).filter((file) => file.includes(`.${server.pid}.`));
    expect(written).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
