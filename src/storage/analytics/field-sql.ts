import type { FieldCondition } from '../field-sql.js';
import type { SqlParams } from './sql-params.js';

/**
 * Event fields of `events AS e` as ClickHouse expressions, with the same reading as
 * src/storage/field-sql.ts (the pipeline's: text unless a JSON string, numbers only when
 * numeric, '' top-level fields absent) but every path key and literal bound as a parameter.
 * Fields are checked here again even though callers validate them: only the column names of
 * `columns` are ever spliced in.
 */

const columns: Record<string, string> = {
  id: 'e.id',
  type: 'e.type',
  userId: 'e.user_id',
  anonymousId: 'e.anonymous_id',
  sessionId: 'e.session_id',
};

const fieldShape = /^(id|type|ts|userId|anonymousId|sessionId|props(\.[A-Za-z0-9_$-]+)+)$/;

export const isEventField = (field: string): boolean => fieldShape.test(field);

export function assertField(field: string): string {
  if (!isEventField(field)) throw new Error(`not an event field: ${field}`);
  return field;
}

function pathArgs(p: SqlParams, field: string): string {
  return field
    .split('.')
    .slice(1)
    .map((key) => p.bind(key, 'String'))
    .join(', ');
}

/** The field as text, NULL when absent or JSON null. */
export function textSql(p: SqlParams, field: string): string {
  assertField(field);
  if (field === 'ts') return 'toString(toUnixTimestamp64Milli(e.ts))';
  if (columns[field]) return `nullIf(${columns[field]}, '')`;
  const materialized = p.columns?.get(field);
  if (materialized) return `e.${materialized}`;
  p.jsonFields?.add(field);
  const path = pathArgs(p, field);
  // One parse of `props` per row: the raw value, then the string inside it when it is one.
  const raw = `JSONExtractRaw(e.props, ${path})`;
  return `multiIf(${raw} IN ('', 'null'), NULL, startsWith(${raw}, '"'), JSONExtractString(${raw}), ${raw})`;
}

/** The field as Float64, NULL unless numeric. */
export function numberSql(p: SqlParams, field: string): string {
  assertField(field);
  if (field === 'ts') return 'toFloat64(toUnixTimestamp64Milli(e.ts))';
  if (columns[field]) return "CAST(NULL, 'Nullable(Float64)')";
  const path = pathArgs(p, field);
  return `if(JSONType(e.props, ${path}) IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(e.props, ${path}), NULL)`;
}

function literalSql(p: SqlParams, field: string, value: unknown): { expr: string; lit: string } {
  if (typeof value === 'number')
    return { expr: numberSql(p, field), lit: p.bind(value, 'Float64') };
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { expr: textSql(p, field), lit: p.bind(text, 'String') };
}

/** A `where` condition as streams and segments declare it; false when the field is absent. */
export function conditionSql(p: SqlParams, condition: FieldCondition): string {
  const { field, op, value } = condition;
  switch (op) {
    case 'exists':
      return `(${textSql(p, field)} IS NOT NULL)`;
    case 'in': {
      const values = Array.isArray(value) ? value : [value];
      const each = values.map((v) => conditionSql(p, { field, op: 'eq', value: v }));
      return `(${each.join(' OR ') || '0'})`;
    }
    case 'ne':
      return `NOT ${conditionSql(p, { field, op: 'eq', value })}`;
    default: {
      const { expr, lit } = literalSql(p, field, value);
      const sqlOp = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
      // A string literal matches only a JSON string, as in the pipeline: "5" is not 5. For
      // equality the type is read only when another JSON value could read as the literal.
      const typed =
        typeof value === 'string' &&
        field.startsWith('props.') &&
        !(op === 'eq' && onlyAStringReadsAs(value))
          ? `JSONType(e.props, ${pathArgs(p, field)}) = 'String' AND `
          : '';
      return `(${typed}coalesce(${expr} ${sqlOp} ${lit}, 0))`;
    }
  }
}

/**
 * True when no JSON value but a string reads as `text` (textSql): the others read as their
 * JSON text, which parses (`rock` does not; `5`, `true`, `[1]` do, and keep the type check).
 * Equality with such a literal then needs no second parse of `props` for the type, and none
 * at all over a materialized prop.
 */
function onlyAStringReadsAs(text: string): boolean {
  try {
    return typeof JSON.parse(text) === 'string';
  } catch {
    return true;
  }
}

/** Every condition, ANDed ('1' for none). */
export function allConditionsSql(p: SqlParams, conditions: readonly FieldCondition[]): string {
  return conditions.length === 0 ? '1' : conditions.map((c) => conditionSql(p, c)).join(' AND ');
}
