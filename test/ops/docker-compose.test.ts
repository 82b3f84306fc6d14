import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { scrape } from '../helpers/scrape.js';
import { removeDir, startServer, tempDir } from '../helpers/server-process.js';

// docker-compose.yml cannot be started here (no Docker engine), so what can be checked with
// the real tools is: HAProxy accepts its configuration, and the file wires what the README
// says (three replicas on Redis and a ClickHouse server, round robin, no stickiness).
const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
const dir = tempDir('backline-compose-');
afterAll(() => removeDir(dir));

/** The text of an inline `configs:` entry, unindented. */
function inlineConfig(name: string): string {
  const block = new RegExp(`\\n {2}${name}:\\n {4}content: \\|\\n((?: {6}.*\\n|\\n)+)`).exec(
    compose,
  );
  expect(block, `configs.${name}`).not.toBeNull();
  return block![1]!.replace(/^ {6}/gm, '');
}

describe('docker-compose.yml', () => {
  it('balances three replicas round robin through an HAProxy configuration HAProxy accepts', () => {
    const config = inlineConfig('haproxy');
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    const check = spawnSync('/usr/sbin/haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(config).toMatch(/balance roundrobin/);
    // No stickiness: any replica serves any socket (cookies, stick tables, source hashing).
    expect(config).not.toMatch(/\b(cookie|stick|balance source|hash-type)\b/);
    for (const n of [1, 2, 3]) expect(config).toMatch(`server backline-${n} backline-${n}:8080`);
  });

  it('its health check finds a ready backline up, so HAProxy forwards to it', async () => {
    const server = await startServer();
    const proxy = await startHaproxy([server.port]); // the compose file's `backend replicas`
    try {
      // HAProxy takes a server for up until checks fail: judge it after they have run.
      const checksRun = async () =>
        (await scrape(server.url, 'backline_http_requests_total', { route: '/readyz' })) >= 3;
      await eventually(checksRun, 30_000, 'three health checks');
      expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200);
    } finally {
      await proxy.stop();
      await server.stop();
      removeDir(server.dataDir);
    }
  });

  it('joins every replica to Redis and one ClickHouse server, Redis fsyncing every write', () => {
    for (const n of [1, 2, 3]) expect(compose).toMatch(`  backline-${n}:\n    <<: *backline`);
    expect(compose).toMatch(/REDIS_URL: redis:\/\/redis:6379/);
    expect(compose).toMatch(/CLICKHOUSE_URL: http:\/\/\S+@clickhouse:8123\/backline/);
    expect(compose).toMatch(/'--appendonly', 'yes', '--appendfsync', 'always'/);
    // The lock names chdb's packages for other platforms, which `npm ci` refuses.
    expect(compose).not.toMatch(/npm ci/);
    expect(compose).toMatch(/command: \['npm', 'install'/);
  });

  it('has Prometheus scrape every replica', () => {
    expect(inlineConfig('prometheus')).toMatch(
      "targets: ['backline-1:8080', 'backline-2:8080', 'backline-3:8080']",
    );
  });
});
