import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promqlNames, serverMetricNames, unknownNames } from '../helpers/metric-names.js';
import { removeDir, tempDir } from '../helpers/server-process.js';

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type: string; uid: string };
}

const file = new URL('../../src/ops/grafana/backline.json', import.meta.url);
const dashboard = JSON.parse(readFileSync(file, 'utf8')) as {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Variable[] };
  panels: Panel[];
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const charts = panels.filter((p) => p.type !== 'row');
const variables = dashboard.templating.list;
const prometheus = { type: 'prometheus', uid: '${datasource}' };

/** Template queries are `label_values(<selector>, <label>)`; the selector is the PromQL. */
const variableExprs = variables
  .filter((v) => v.type === 'query')
  .map(
    (v) =>
      /^label_values\((.*),\s*\w+\)$/.exec(
        typeof v.query === 'string' ? v.query : v.query.query,
      )![1]!,
  );
const exprs = [...charts.flatMap((p) => p.targets!.map((t) => t.expr)), ...variableExprs];

const dir = tempDir('backline-grafana-');
afterAll(() => removeDir(dir));

describe('Grafana dashboard (src/ops/grafana/backline.json)', () => {
  let exposed: Set<string>;
  beforeAll(async () => {
    exposed = await serverMetricNames();
  });

  it('imports into Grafana 10+ with a Prometheus data source variable', () => {
    expect(dashboard.uid).toBe('backline');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(variables[0]).toMatchObject({
      name: 'datasource',
      type: 'datasource',
      query: 'prometheus',
    });
    for (const v of variables.slice(1)) expect(v.datasource, v.name).toEqual(prometheus);
    for (const panel of charts) {
      expect(panel.datasource, panel.title).toEqual(prometheus);
      expect(panel.targets!.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!)
        expect(target.datasource, panel.title).toEqual(prometheus);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lays panels on the 24-column grid without overlaps', () => {
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        expect(apart, `${a.title} / ${b.title}`).toBe(true);
      }
    }
  });

  it('has PromQL that promtool parses', () => {
    // Grafana's variables become values Prometheus would see; each query becomes a rule.
    const concrete = exprs.map((e) =>
      e.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?\w+\}?/g, 'x'),
    );
    const rules = concrete.map(
      (e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e)}`,
    );
    const rulesFile = join(dir, 'dashboard-queries.yml');
    writeFileSync(rulesFile, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const run = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it('queries only metrics the server exposes', () => {
    expect(unknownNames(exprs, exposed)).toEqual([]);
  });

  it('charts the main metrics', () => {
    const charted = new Set(exprs.flatMap(promqlNames));
    for (const name of [
      'backline_ingest_events_accepted_total',
      'backline_ingest_ack_seconds_bucket',
      'backline_ingest_events_rejected_total',
      'backline_ingest_frame_errors_total',
      'backline_storage_rows_buffered',
      'backline_storage_spool_bytes',
      'backline_storage_insert_failures_total',
      'backline_pipeline_open_windows',
      'backline_live_subscriptions',
      'backline_live_slow_consumers',
      'backline_notify_decisions_total',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
    ])
      expect(charted, name).toContain(name);
  });
});
