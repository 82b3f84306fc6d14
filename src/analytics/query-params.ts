import { z } from 'zod';
import { BacklineError } from '../errors.js';
import { fieldPathSchema } from '../pipeline/field-path.js';
import { streamSpecSchema } from '../pipeline/stream-spec.js';

/** A `where` condition, as streams declare it (one definition, read off the stream schema). */
export const conditionSchema = streamSpecSchema.shape.source.unwrap().shape.where.unwrap().element;

/** An event type as ingest accepts it (limits.maxIdLength is at most this). */
export const eventTypeSchema = z.string().min(1).max(256);

const bad = (name: string, what: string) => new BacklineError('BAD_QUERY', `\`${name}\` ${what}`);

/** The parameter, '' and absent alike as undefined. */
export function text(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}

export function oneOf<T extends string>(
  query: URLSearchParams,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const value = text(query, name) ?? fallback;
  if (!(values as readonly string[]).includes(value))
    throw bad(name, `is one of ${values.join(', ')}`);
  return value as T;
}

export function integer(
  query: URLSearchParams,
  name: string,
  range: { min: number; max: number },
  fallback: number,
): number {
  const raw = text(query, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < range.min || value > range.max)
    throw bad(name, `is an integer from ${range.min} to ${range.max}`);
  return value;
}

export function eventType(query: URLSearchParams, name: string): string | undefined {
  const value = text(query, name);
  if (value !== undefined && !eventTypeSchema.safeParse(value).success)
    throw bad(name, 'is an event type of at most 256 characters');
  return value;
}

/** An event field (`props.show.id`, `userId`, …); `numeric` asks for a `props.` path. */
export function field(query: URLSearchParams, name: string, numeric = false): string | undefined {
  const value = text(query, name);
  if (value === undefined) return undefined;
  if (!fieldPathSchema.safeParse(value).success || (numeric && !value.startsWith('props.')))
    throw bad(name, numeric ? 'is a props.<path> field' : 'is an event field or props.<path>');
  return value;
}

/** A JSON parameter checked by `schema`; BAD_QUERY names the first problem. */
export function json<T>(query: URLSearchParams, name: string, schema: z.ZodType<T>): T | undefined {
  const raw = text(query, name);
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw bad(name, 'is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw bad(name, `is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
}

/** `where=` on any analytics query: conditions every counted event meets. */
export const whereSchema = z.array(conditionSchema).max(20);
