import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtServerEntry } from './server-build.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly key: string;
  readonly dataDir: string;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  key?: string;
  /**
   * 0 (the default) picks a free port. A server restarted on its port after `kill -9` must
   * have started on a fixed one too (`freePort()`, see free-port.ts).
   */
  port?: number;
  env?: Record<string, string>;
  /** Written to a temp file and passed as BACKLINE_CONFIG. */
  config?: object;
}

export function tempDir(prefix = 'backline-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The server process (`src/main.ts`) with the environment `options` describe. */
function spawnServer(options: StartOptions) {
  const dataDir = options.dataDir ?? tempDir();
  const key = options.key ?? `test_${randomBytes(16).toString('hex')}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    BACKLINE_DEV_KEY: key,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  if (options.config) {
    const file = join(dataDir, 'test-config.json');
    writeFileSync(file, JSON.stringify(options.config));
    env.BACKLINE_CONFIG = file;
  }
  // The server built once for this run (server-build.ts), else through tsx as `npm start`.
  const built = builtServerEntry();
  const args = built ? [built] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env,
    stdio: 'pipe',
  });
  return { child, dataDir, key };
}

/**
 * Starts the real server expecting it to refuse to start: its exit code and what it printed
 * on each stream. Killed (by its PID) if it is still running after `timeoutMs`.
 */
export async function runServerUntilExit(
  options: StartOptions = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child } = spawnServer(options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) =>
    child.once('close', (exitCode) => resolve(exitCode)),
  );
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts the real server (`src/main.ts`) on a free loopback port and waits until it listens. */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const { child, dataDir, key } = spawnServer(options);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  // https with TLS files set: the origin's scheme tells.
  const [scheme, port] = await new Promise<[string, number]>((resolve, reject) => {
    // Generous: a 2-core machine running the suite's other files may take this long.
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000);
    const check = () => {
      const match = /listening on (https?):\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve([match[1]!, Number(match[2])]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });

  return {
    child,
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    wsUrl: `${scheme.replace('http', 'ws')}://127.0.0.1:${port}`,
    key,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
