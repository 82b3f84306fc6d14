import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { startRedisServer } from './redis-server.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startRedisServer', () => {
  it('stops, kills and restarts on the same port and folder, by pid', async () => {
    const server = await startRedisServer();
    const first = server.pid;
    await server.kill();
    expect(alive(first)).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(first);
    expect(alive(server.pid)).toBe(true);
    const second = server.pid;
    await server.stop();
    await server.stop();
    expect(alive(second)).toBe(false);
  });

  it('names the Debian package when redis-server is missing', async () => {
    await expect(startRedisServer({ searchPath: '/nonexistent' })).rejects.toThrow(
      /^redis-server not found: install the Debian package `redis-server`/,
    );
  });

  it('takes its redis-server down when the test process is ended by a signal', async () => {
    const script = fileURLToPath(new URL('./redis-server-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => /^\d+\n/.test(output), 30_000, 'the redis-server pid');
    const pid = Number(output.trim());
    expect(alive(pid)).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    await eventually(() => !alive(pid), 10_000, 'redis-server to be gone');
  });
});
