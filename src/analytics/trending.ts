import type { TrendingSettings } from '../config/analytics-schema.js';
import { BacklineError } from '../errors.js';
import type { StreamEvent } from '../model/event.js';
import { readField } from '../pipeline/field-path.js';
import { typesSchema } from './engagement.js';
import { field, integer, json } from './query-params.js';

/** `GET /v1/trending` as asked, checked. */
export interface TrendingRequest {
  /** `type` or `props.<path>`. */
  entity: string;
  types?: string[];
  periodMs: number;
  halfLifeMs: number;
  limit: number;
}

const day = 86_400_000;

export function parseTrendingRequest(
  query: URLSearchParams,
  settings: TrendingSettings,
): TrendingRequest {
  const entity = query.get('entity') === 'type' ? 'type' : field(query, 'entity', true);
  if (!entity) throw new BacklineError('BAD_QUERY', '`entity` is type or props.<path>');
  const periodMs = integer(
    query,
    'period',
    { min: settings.bucketMs, max: 30 * day },
    settings.periodMs,
  );
  if (periodMs % settings.bucketMs !== 0)
    throw new BacklineError('BAD_QUERY', `\`period\` is a multiple of ${settings.bucketMs} ms`);
  const types = json(query, 'types', typesSchema);
  return {
    entity,
    ...(types ? { types: [...new Set(types)].sort() } : {}),
    periodMs,
    halfLifeMs: integer(query, 'halfLife', { min: 60_000, max: 3650 * day }, settings.halfLifeMs),
    limit: integer(query, 'limit', { min: 1, max: 1000 }, 20),
  };
}

/** One tracker per distinct request shape of a project (the limit aside). */
export const trackerKey = (project: string, r: TrendingRequest) =>
  JSON.stringify([project, r.entity, r.types ?? null, r.periodMs, r.halfLifeMs]);

/**
 * What an event counts for: its `entity` value as text, read as the SQL reads it (strings as
 * they are, other JSON as JSON text; absent and null count for nothing), if its type counts.
 */
export function entityReader(request: Pick<TrendingRequest, 'entity' | 'types'>) {
  const types = request.types ? new Set(request.types) : undefined;
  const read = readField(request.entity);
  return (event: StreamEvent): string | undefined => {
    if (types && !types.has(event.type)) return undefined;
    const value = read(event);
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
}
