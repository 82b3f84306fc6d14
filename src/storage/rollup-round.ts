import { blocksAfter } from './event-blocks.js';
import { quote } from './field-sql.js';
import { markerKey, oneBlock, type RollupParts } from './rollup-sql.js';

/** A table a round brings up to date: its parts and the block its marker says. */
export interface RollTarget {
  parts: RollupParts;
  after: number;
  project: string;
}

/**
 * The SQL of one round of the roller over a few tables. Each table's own INSERT … SELECT
 * over `events` read and parsed the new events again (0.6 µs per event and table under
 * load: 100 streams at 10,000 events/s were 60% of a core), so the round reads them once:
 * a Memory table (the stage) takes the states of every table at once, one GROUP BY by hour
 * and key, a state column per table aggregate over that table's rows; then each table takes
 * its columns in a small insert. Streams grouped by different fields are grouped once per
 * distinct key (`kg`). ClickHouse plans wide aggregations in more than linear time (100
 * state columns: ~190 ms under load, 10: ~8 ms), so a round stages at most
 * `columnsPerStage` columns at a time.
 */
export const columnsPerStage = 20;

/** Splits targets into stages of at most `columnsPerStage` state columns (one table at least). */
export function stages(targets: readonly RollTarget[]): RollTarget[][] {
  const out: RollTarget[][] = [];
  let columns = Infinity;
  for (const target of targets) {
    if (columns + target.parts.states.length > columnsPerStage) {
      out.push([]);
      columns = 0;
    }
    out.at(-1)!.push(target);
    columns += target.parts.states.length;
  }
  return out;
}

/** Creates `stage` with the states of the blocks up to `upto` for each target, and a marker row. */
export function stageSql(stage: string, targets: readonly RollTarget[], upto: number): string {
  const keys = [...new Set(targets.map((t) => t.parts.key))];
  const grouped = keys.length > 1;
  const states: string[] = [];
  const empty: string[] = [];
  targets.forEach(({ parts, after }, t) => {
    const kg = grouped ? `kg = ${keys.indexOf(parts.key)} AND ` : '';
    const takes = `${kg}${parts.where} AND _block_number > ${Math.floor(after)}`;
    states.push(`countIf(${takes}) AS m${t}`);
    empty.push(`toUInt64(0) AS m${t}`);
    parts.states.forEach((s, i) => {
      states.push(`${s.state(takes)} AS x${t}_${i}`);
      empty.push(`${s.empty} AS x${t}_${i}`);
    });
  });
  const projects = [...new Set(targets.map((t) => quote(t.project)))].join(', ');
  const lowest = Math.min(...targets.map((t) => t.after));
  const byKey = grouped
    ? `ARRAY JOIN [${keys.map((k, i) => `(toUInt16(${i}), ${k})`).join(', ')}] AS g`
    : '';
  return `CREATE TABLE ${stage} ENGINE = Memory AS
    SELECT ${grouped ? 'g.1' : 'toUInt16(0)'} AS kg, toStartOfHour(ts) AS bucket, ${grouped ? 'g.2' : keys[0]} AS key,
      ${states.join(',\n      ')}
    FROM events ${byKey}
    WHERE project IN (${projects}) AND ${blocksAfter(lowest, upto)}
    GROUP BY kg, bucket, key
    UNION ALL
    SELECT toUInt16(0), toDateTime(0, 'UTC'), ${markerKey}, ${empty.join(', ')}`;
}

/**
 * Appends target `t`'s rows of `stage` and the marker `upto` to its table, in one part: a
 * crash leaves the table before or after the roll, never between.
 */
export function unstageSql(
  stage: string,
  targets: readonly RollTarget[],
  t: number,
  upto: number,
): string {
  const { parts } = targets[t]!;
  const keys = [...new Set(targets.map((target) => target.parts.key))];
  const columns = parts.states.map((_s, i) => `a${i}`);
  return `INSERT INTO ${parts.table} (bucket, key, ${columns.join(', ')}, upto)
    SELECT bucket, key, ${columns.map((a, i) => `x${t}_${i} AS ${a}`).join(', ')},
      toUInt64(if(key = ${markerKey}, ${Math.floor(upto)}, 0)) AS upto
    FROM ${stage}
    WHERE (kg = ${keys.indexOf(parts.key)} AND m${t} > 0) OR key = ${markerKey}
    SETTINGS ${oneBlock}`;
}
