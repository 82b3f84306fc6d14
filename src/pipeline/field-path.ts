import { z } from 'zod';
import { pathReader } from '../lib/field-path.js';
import type { StreamEvent } from '../model/event.js';

/** Event fields a stream may read: the top-level ones, or `props.<path>`. */
export const fieldPathSchema = z
  .string()
  .regex(
    /^(id|type|ts|userId|anonymousId|sessionId|props(\.[A-Za-z0-9_$-]+)+)$/,
    'a field is id, type, ts, userId, anonymousId, sessionId or props.<path>',
  );

export type FieldReader = (event: StreamEvent) => unknown;

/** Compiles `userId` or `props.show.id` to a reader of a stream event. */
export function readField(path: string): FieldReader {
  switch (path) {
    case 'id':
    case 'type':
    case 'ts':
      return (event) => event[path];
    case 'userId':
    case 'anonymousId':
    case 'sessionId':
      // Stored as '' when absent; the pipeline treats '' as absent too.
      return (event) => event[path] || undefined;
  }
  const read = pathReader(path.split('.').slice(1));
  return (event) => read(event.props);
}
