import type { StreamEvent } from '../model/event.js';

export type FieldReader = (event: StreamEvent) => unknown;

/** Compiles `userId` or `props.show.id` to a reader. */
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
  const keys = path.split('.').slice(1);
  // Own properties only: `props.constructor` must not read Object.prototype.
  if (keys.length === 1) {
    const key = keys[0]!;
    return (event) => (Object.hasOwn(event.props, key) ? event.props[key] : undefined);
  }
  return (event) => {
    let value: unknown = event.props;
    for (const key of keys) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key))
        return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  };
}
