import { BacklineError } from '../../errors.js';
import { maxJsonBodyBytes } from './route.js';

function parse(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BacklineError('BAD_JSON', `not valid JSON: ${(err as Error).message}`);
  }
}

/** A definition's JSON body (streams, rules, templates) of at most `maxJsonBodyBytes`, parsed. */
export async function jsonBody(body: Promise<Buffer | undefined>): Promise<unknown> {
  const bytes = await body;
  if (!bytes)
    throw new BacklineError('FRAME_TOO_LARGE', `a definition is at most ${maxJsonBodyBytes} bytes`);
  return parse(bytes);
}

/** A JSON request body as a map; an empty body is `{}`. */
export async function jsonMap(body: Promise<Buffer | undefined>): Promise<Record<string, unknown>> {
  const bytes = await body;
  if (!bytes) throw new BacklineError('FRAME_TOO_LARGE', 'a body is at most 64 KiB');
  if (bytes.length === 0) return {};
  const value = parse(bytes);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BacklineError('NOT_A_MAP', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}
