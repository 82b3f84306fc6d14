/**
 * The value at a dotted path (`props.show.id`, `values.load.p95`, or its keys), or undefined.
 * Own properties only: `props.constructor` must not read Object.prototype, and a path through
 * a missing or non-object value (`show.id.length`) is absent. The one path reader of stream
 * fields, rule templates and email templates.
 *
 * @example
 * readPath({ values: { load: { p95: 240 } } }, 'values.load.p95'); // 240
 */
export function readPath(root: unknown, path: string | readonly string[]): unknown {
  let value = root;
  for (const key of typeof path === 'string' ? path.split('.') : path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** `readPath` with the path split once, for a reader called on every event. */
export function pathReader(path: string | readonly string[]): (root: unknown) => unknown {
  const keys = typeof path === 'string' ? path.split('.') : [...path];
  if (keys.length !== 1) return (root) => readPath(root, keys);
  const key = keys[0]!;
  return (root) =>
    typeof root === 'object' && root !== null && Object.hasOwn(root, key)
      ? (root as Record<string, unknown>)[key]
      : undefined;
}
