import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleExprs, serverMetricNames, unknownNames } from '../helpers/metric-names.js';
import { removeDir, tempDir } from '../helpers/server-process.js';

const dir = fileURLToPath(new URL('../../src/ops/prometheus/', import.meta.url));
const ruleFiles = ['alerts.yml', 'recording.yml'];
const scratch = tempDir('backline-rules-');
afterAll(() => removeDir(scratch));

/** Runs promtool in the rules folder; the assertion message is everything it printed. */
function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('Prometheus rules (src/ops/prometheus)', () => {
  let exposed: Set<string>;
  beforeAll(async () => {
    exposed = await serverMetricNames();
  });

  it('pass `promtool check rules`, every rule read by the name check', () => {
    const { status, output } = promtool('check', 'rules', ...ruleFiles);
    expect(status, output).toBe(0);
    for (const file of ruleFiles) {
      const found = new RegExp(`Checking ${file}\\n\\s+SUCCESS: (\\d+) rules found`).exec(output);
      expect(Number(found?.[1]), `${file}\n${output}`).toBe(
        ruleExprs(`${dir}${file}`).exprs.length,
      );
    }
  });

  it('pass their `promtool test rules` unit tests', () => {
    const { status, output } = promtool('test', 'rules', 'alerts.test.yml', 'recording.test.yml');
    expect(status, output).toBe(0);
  });

  it('give every alert a `for`, a severity, a summary and a description', () => {
    const blocks = readFileSync(`${dir}alerts.yml`, 'utf8')
      .split(/\n\s+- alert: /)
      .slice(1);
    expect(blocks.length).toBe(ruleExprs(`${dir}alerts.yml`).exprs.length);
    for (const block of blocks) {
      const name = block.split('\n')[0]!;
      expect(block, name).toMatch(/\n\s+for: \d+m\n/);
      expect(block, name).toMatch(/\n\s+severity: (critical|warning)\n/);
      expect(block, name).toMatch(/\n\s+summary: \S/);
      expect(block, name).toMatch(/\n\s+description: \S/);
    }
  });

  it('unit-test every alert both firing and quiet', () => {
    const alerts = [...readFileSync(`${dir}alerts.yml`, 'utf8').matchAll(/- alert: (\w+)/g)];
    const cases = readFileSync(`${dir}alerts.test.yml`, 'utf8')
      .split(/- eval_time: /)
      .slice(1);
    for (const [, alert] of alerts) {
      const mine = cases.filter((c) => new RegExp(`\\n\\s+alertname: ${alert}\\n`).test(c));
      expect(
        mine.some((c) => c.includes('exp_alerts:')),
        `${alert} fires`,
      ).toBe(true);
      expect(
        mine.some((c) => !c.includes('exp_alerts:')),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });

  it("are loaded by docker-compose's Prometheus, whose configuration promtool accepts", () => {
    const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
    expect(compose).toContain('- ./src/ops/prometheus:/etc/prometheus/rules:ro');
    const config = /\n {2}prometheus:\n {4}content: \|\n((?: {6}.*\n|\n)+)/.exec(compose)![1]!;
    const local = config.replace(/^ {6}/gm, '').replaceAll('/etc/prometheus/rules/', dir);
    expect(local).toContain(`- ${dir}alerts.yml`);
    expect(local).toContain(`- ${dir}recording.yml`);
    const file = join(scratch, 'prometheus.yml');
    writeFileSync(file, local);
    const { status, output } = promtool('check', 'config', file);
    expect(status, output).toBe(0);
    for (const rules of ruleFiles)
      expect(output).toMatch(new RegExp(`Checking ${dir}${rules}\\n\\s+SUCCESS: \\d+ rules found`));
  });

  it('read only metrics the server exposes or the recording rules define', () => {
    const recorded = ruleExprs(`${dir}recording.yml`).records;
    const known = new Set([...exposed, ...recorded]);
    const exprs = ruleFiles.flatMap((file) => ruleExprs(`${dir}${file}`).exprs);
    expect(unknownNames(exprs, known)).toEqual([]);
  });
});
