/**
 * ClickHouse expressions for an event field of the `events` table: a top-level column or a
 * path into the `props` JSON text. They mirror the pipeline's reading of fields: text as JSON
 * text unless a string, numbers only when numeric, '' top-level fields as absent. Fields are
 * validated paths (`userId`, `props.show.id`) and literals are quoted here: no user text is
 * spliced in as SQL.
 */

/** A condition on an event field, as streams and segments declare it. */
export interface FieldCondition {
  field: string;
  op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'exists';
  value?: unknown;
}

const columns: Record<string, string> = {
  id: 'id',
  type: 'type',
  userId: 'user_id',
  anonymousId: 'anonymous_id',
  sessionId: 'session_id',
};

export const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function jsonPath(field: string): string {
  return field.split('.').slice(1).map(quote).join(', ');
}

/** The field as text (NULL when absent or JSON null), as `asText` does in the pipeline. */
export function textOf(field: string): string {
  if (field === 'ts') return 'toString(toUnixTimestamp64Milli(ts))';
  if (columns[field]) return `nullIf(${columns[field]}, '')`;
  const path = jsonPath(field);
  return `multiIf(JSONType(props, ${path}) = 'String', JSONExtractString(props, ${path}), JSONType(props, ${path}) IN ('Null', ''), NULL, JSONExtractRaw(props, ${path}))`;
}

/** The field as a number (NULL unless numeric), as `numeric` does in the pipeline. */
export function numberOf(field: string): string {
  if (field === 'ts') return 'toFloat64(toUnixTimestamp64Milli(ts))';
  if (columns[field]) return "CAST(NULL, 'Nullable(Float64)')";
  const path = jsonPath(field);
  return `if(JSONType(props, ${path}) IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(props, ${path}), NULL)`;
}

export function conditionSql({ field, op, value }: FieldCondition): string {
  const literal = (v: unknown) =>
    typeof v === 'number'
      ? { expr: numberOf(field), lit: String(v) }
      : { expr: textOf(field), lit: quote(typeof v === 'string' ? v : JSON.stringify(v)) };
  const typed = (v: unknown) =>
    typeof v === 'string' && !columns[field] && field !== 'ts'
      ? `JSONType(props, ${jsonPath(field)}) = 'String' AND `
      : '';
  switch (op) {
    case 'exists':
      return `${textOf(field)} IS NOT NULL`;
    case 'in':
      return `(${(Array.isArray(value) ? value : [value]).map((v) => conditionSql({ field, op: 'eq', value: v })).join(' OR ') || '0'})`;
    case 'ne':
      return `NOT (${conditionSql({ field, op: 'eq', value })})`;
    default: {
      const { expr, lit } = literal(value);
      const sqlOp = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
      return `(${typed(value)}coalesce(${expr} ${sqlOp} ${lit}, 0))`;
    }
  }
}
