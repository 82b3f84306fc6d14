import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCohortCatalog } from '../../src/analytics/cohort-catalog.js';
import { cohortRule, cohortSpecSchema } from '../../src/analytics/cohort-spec.js';

const dir = mkdtempSync(join(tmpdir(), 'backline-cohorts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const newFans = {
  description: 'first seen this week, then played',
  conditions: [
    { kind: 'first_seen', withinMs: 7 * 86_400_000 },
    { kind: 'performed', types: ['song.play'], min: 3 },
  ],
};

describe('cohort catalog', () => {
  it('keeps definitions per project across a restart, and deletions', async () => {
    const file = join(dir, 'cohorts.json');
    const catalog = createCohortCatalog({ file });
    const spec = await catalog.define('shop', 'new_fans', newFans);
    expect(spec).toMatchObject({ name: 'new_fans', match: 'all' });
    await catalog.define('shop', 'gone', { conditions: [{ kind: 'performed' }] });
    expect(await catalog.remove('shop', 'gone')).toBe(true);
    expect(await catalog.remove('shop', 'gone')).toBe(false);

    const reopened = createCohortCatalog({ file });
    expect(reopened.list('shop')).toEqual([spec]);
    expect(await reopened.get('shop', 'new_fans')).toEqual(spec);
    expect(await reopened.get('other', 'new_fans')).toBeUndefined();
    expect(reopened.list('other')).toEqual([]);
  });

  it('refuses a bad definition with BAD_COHORT naming the part', async () => {
    const catalog = createCohortCatalog({ file: join(dir, 'bad.json') });
    const bad: Array<[string, unknown, string]> = [
      ['Upper', newFans, 'name'],
      ['x', { conditions: [] }, 'conditions'],
      ['x', { conditions: [{ kind: 'churned' }] }, 'conditions.0'],
      ['x', { conditions: [{ kind: 'performed', min: 3, max: 1 }] }, 'max'],
      ['x', { conditions: [{ kind: 'performed', withinMs: 5, from: 1 }] }, 'withinMs'],
      ['x', { conditions: [{ kind: 'first_seen', from: 5, to: 5 }] }, 'before'],
      ['x', { conditions: [{ kind: 'performed', where: [{ field: 'bad', op: 'eq' }] }] }, 'field'],
    ];
    for (const [name, raw, part] of bad) {
      const err = await catalog.define('shop', name, raw).catch((e: unknown) => e);
      expect(err, JSON.stringify(raw)).toMatchObject({ code: 'BAD_COHORT' });
      expect((err as Error).message).toContain(part);
    }
    expect(catalog.list('shop')).toEqual([]);
  });

  it('turns spans relative to now into times when evaluated', () => {
    const spec = cohortSpecSchema.parse({
      name: 'c',
      match: 'any',
      conditions: [
        { kind: 'first_seen', withinMs: 1000, types: ['signup'] },
        { kind: 'performed', from: 10, to: 20, min: 0, max: 0 },
      ],
    });
    expect(cohortRule(spec, 5000)).toEqual({
      match: 'any',
      conditions: [
        { kind: 'first_seen', types: ['signup'], where: [], fromMs: 4000 },
        { kind: 'performed', where: [], fromMs: 10, toMs: 20, min: 0, max: 0 },
      ],
    });
  });
});
