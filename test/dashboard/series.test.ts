import { describe, expect, it } from 'vitest';
import type { LiveWindow } from '../../src/client/index.js';
import {
  chartFields,
  chartSeries,
  fieldTitle,
  isListField,
  topValueBars,
} from '../../src/dashboard/series.js';

const day = 24 * 3600_000;
const window = (start: number, values: Record<string, unknown>, extra: Partial<LiveWindow> = {}) =>
  ({
    stream: 's',
    start,
    end: start + 60_000,
    key: '',
    values,
    final: true,
    rev: 1,
    ...extra,
  }) as LiveWindow;

describe('chartSeries', () => {
  it('spans one window alone on its own start and end, not uPlot’s thousand days', () => {
    const one = [window(day, { plays: 11 }, { end: 2 * day, final: false })];
    const data = chartSeries(one, 'plays', 8);
    expect(data).toMatchObject({ names: ['all'], xs: [day / 1000], ys: [[11]] });
    expect(data.xRange).toEqual([day / 1000, (2 * day) / 1000]);
  });

  it('marks only the open windows provisional, once per start', () => {
    const windows = [
      window(0, { n: 1 }, { key: 'A' }),
      window(60_000, { n: 2 }, { key: 'A', final: false }),
      window(60_000, { n: 4 }, { key: 'B', final: false }),
    ];
    const data = chartSeries(windows, 'n', 8);
    expect(data.provisional).toEqual([[60, 120]]);
    expect(data.xRange).toEqual([0, 120]);
    expect(data.names).toEqual(['B', 'A']);
    expect(data.ys).toEqual([
      [null, 4],
      [1, 2],
    ]);
  });
});

describe('topK fields', () => {
  const songs = (start: number, key: string, list: Array<[string, number]>, final = false) =>
    window(start, { songs: list.map(([value, count]) => ({ value, count })) }, { key, final });

  it('are bars of the newest window, largest first, labelled with the key', () => {
    const windows = [
      songs(0, 'x', [['old', 99]], true),
      songs(60_000, 'x', [
        ['a', 5],
        ['b', 3],
      ]),
      songs(60_000, 'y', [['c', 4]]),
    ];
    const field = chartFields(windows).find((f) => f.label === 'songs (top values)')!;
    expect(isListField(field.id)).toBe(true);
    const { windows: shown, bars } = topValueBars(windows, field.id, 2);
    expect(shown.map((w) => w.key)).toEqual(['x', 'y']);
    expect(bars).toEqual([
      { label: 'x · a', count: 5 },
      { label: 'y · c', count: 4 },
    ]);
    expect(chartSeries(windows, field.id, 8).names).toEqual([]);
  });
});

describe('fieldTitle', () => {
  const aggregates = [
    { name: 'votes', fn: 'count' },
    { name: 'voters', fn: 'uniq', field: 'userId' },
    { name: 'eur', fn: 'sum', field: 'props.eur' },
    { name: 'load', fn: 'quantiles', field: 'props.ms' },
    { name: 'songs', fn: 'topK', field: 'props.song' },
  ];
  it('names the aggregate and what it counts', () => {
    expect(fieldTitle('votes', aggregates)).toBe('votes (events)');
    expect(fieldTitle('voters', aggregates)).toBe('voters (distinct userId)');
    expect(fieldTitle('eur', aggregates)).toBe('eur (sum of props.eur)');
    expect(fieldTitle('load\tp95', aggregates)).toBe('load p95 (of props.ms)');
    expect(fieldTitle('songs\t[]', aggregates)).toBe('songs (events)');
    expect(fieldTitle('unknown', aggregates)).toBe('unknown');
  });
});
