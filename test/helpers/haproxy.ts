import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { tempDir } from './server-process.js';

export const haproxyBinary = '/usr/sbin/haproxy';

export interface Haproxy {
  readonly url: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** Everything HAProxy printed so far. */
  output(): string;
  /** SIGTERM by pid, and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * The settings of docker-compose.yml's `backend replicas` but its servers (balancing, the
 * `/readyz` health check), so the cluster tests run the compose file's load balancing.
 */
function composeBackend(): string[] {
  const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
  const lines = compose.split('\n');
  const first = lines.findIndex((line) => line.trim() === 'backend replicas');
  if (first < 0) throw new Error('docker-compose.yml has no `backend replicas`');
  const body: string[] = [];
  for (const line of lines.slice(first + 1)) {
    if (!line.startsWith('        ')) break; // the next section
    const setting = line.trim();
    if (!setting.startsWith('#') && !setting.startsWith('server ')) body.push(`  ${setting}`);
  }
  return body;
}

/**
 * A real HAProxy (Debian's) in front of `backends` on a free loopback port, balanced and
 * health-checked (every 500 ms) as docker-compose.yml's `backend replicas` says. The
 * configuration is written to a temporary file; the process is ended by its pid.
 *
 * @example
 * const proxy = await startHaproxy([node1.port, node2.port]);
 * await fetch(`${proxy.url}/v1/events/stats?key=${key}`); // answered by one node, then the next
 */
export async function startHaproxy(backends: readonly number[]): Promise<Haproxy> {
  const port = await freePort();
  const file = join(tempDir('backline-haproxy-'), 'haproxy.cfg');
  const servers = backends.map(
    (backend, i) => `  server n${i + 1} 127.0.0.1:${backend} check inter 500 fall 2 rise 1`,
  );
  writeFileSync(
    file,
    [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  timeout tunnel 1h',
      '  option http-server-close',
      'frontend backline',
      `  bind 127.0.0.1:${port}`,
      '  default_backend replicas',
      'backend replicas',
      ...composeBackend(),
      ...servers,
      '',
    ].join('\n'),
  );
  const child = spawn(haproxyBinary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitListening(child, port, () => output);
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

async function waitListening(child: ChildProcess, port: number, output: () => string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited at start:\n${output()}`);
    const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.kill(child.pid!, 'SIGKILL');
  throw new Error(`haproxy did not listen on ${port}:\n${output()}`);
}
