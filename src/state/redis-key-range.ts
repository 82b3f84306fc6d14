import type { ListOptions } from './state-store.js';

/** Above every UTF-8 byte sequence: no encoded key holds 0xff, so `prefix` + 0xff ends the prefix. */
const END = Buffer.from([0xff]);

/**
 * ZRANGEBYLEX bounds for `list(prefix, options)`, in the order the command takes them
 * (min, max; or max, min for ZREVRANGEBYLEX when reversed). Redis compares members as bytes,
 * so the bounds are compared as UTF-8 bytes too.
 *
 * @example
 * keyRange('p/', { after: 'p/1' }); // ['(p/1', '(p/\xff']
 */
export function keyRange(prefix: string, options: ListOptions): [Buffer, Buffer] {
  const start = Buffer.from(prefix);
  const ends = [Buffer.concat([start, END])];
  if (options.before !== undefined) ends.push(Buffer.from(options.before));
  if (options.reverse && options.after !== undefined) ends.push(Buffer.from(options.after));
  const upper = bound(
    '(',
    ends.reduce((a, b) => (Buffer.compare(a, b) <= 0 ? a : b)),
  );

  const after = options.reverse ? undefined : options.after;
  const afterBytes = after === undefined ? undefined : Buffer.from(after);
  const lower =
    afterBytes && Buffer.compare(afterBytes, start) >= 0
      ? bound('(', afterBytes)
      : bound('[', start);
  return options.reverse ? [upper, lower] : [lower, upper];
}

const bound = (kind: '(' | '[', key: Buffer): Buffer => Buffer.concat([Buffer.from(kind), key]);
