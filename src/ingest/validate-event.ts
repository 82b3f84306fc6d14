import type { Limits } from '../config/schema.js';
import type { ErrorCode } from '../errors.js';
import type { EventRow } from '../model/event.js';
import { isMap } from './decode-frame.js';

export type Validated =
  | { ok: true; row: EventRow; props: Record<string, unknown> }
  | { ok: false; code: ErrorCode; msg: string };

// DateTime64(3) holds 1900-01-01 … 2299-12-31; client clocks outside [1970, 2286] are refused
// so that no stored row can make a whole ClickHouse insert fail.
const maxEpochMs = 9_999_999_999_999;

type Failure = Extract<Validated, { ok: false }>;

const fail = (code: ErrorCode, msg: string): Failure => ({ ok: false, code, msg });

/**
 * Checks one event against protocol v1 and the limits and turns it into a storage row.
 * When `sentAt` is present, `ts` is corrected for the client's clock skew by the receive
 * time, as PostHog does: `ts + (receivedAt − sentAt)`; the client's own `ts` is kept too.
 */
export function validateEvent(
  raw: unknown,
  project: string,
  receivedAt: number,
  limits: Limits,
): Validated {
  if (!isMap(raw)) return fail('EVENT_NOT_A_MAP', 'event must be a map');
  const { id, type, ts, sentAt, props } = raw;

  const idError =
    checkString('id', id, true, limits.maxIdLength) ??
    checkString('type', type, true, limits.maxIdLength);
  if (idError) return idError;
  for (const field of ['userId', 'anonymousId', 'sessionId'] as const) {
    const error = checkString(field, raw[field], false, limits.maxIdLength);
    if (error) return error;
  }

  const time = eventTime(ts, sentAt, receivedAt, limits);
  if ('ok' in time) return time;
  const { clientTs, sent, corrected } = time;

  let propsJson = '{}';
  if (props !== undefined && props !== null) {
    if (!isMap(props)) return fail('BAD_FIELD_TYPE', '`props` must be a map');
    const error = checkValue(props, 1, limits);
    if (error) return error;
    propsJson = JSON.stringify(props);
    if (
      propsJson.length > limits.maxPropsBytes ||
      Buffer.byteLength(propsJson) > limits.maxPropsBytes
    ) {
      return fail('PROPS_TOO_LARGE', `props are over ${limits.maxPropsBytes} bytes as JSON`);
    }
  }

  return {
    ok: true,
    props: (props ?? {}) as Record<string, unknown>,
    row: {
      project,
      type: type as string,
      ts: corrected,
      client_ts: clientTs,
      sent_at: sent,
      received_at: receivedAt,
      id: id as string,
      user_id: (raw.userId as string | undefined) ?? '',
      anonymous_id: (raw.anonymousId as string | undefined) ?? '',
      session_id: (raw.sessionId as string | undefined) ?? '',
      props: propsJson,
    },
  };
}

/** The client's `ts` and `sentAt` as epoch ms, and `ts` corrected for the client's clock skew. */
function eventTime(
  ts: unknown,
  sentAt: unknown,
  receivedAt: number,
  limits: Limits,
): { clientTs: number; sent: number | null; corrected: number } | Failure {
  if (ts === undefined) return fail('MISSING_FIELD', '`ts` is required');
  const clientTs = epochMs('ts', ts);
  if (typeof clientTs !== 'number') return clientTs;
  const sent = sentAt === undefined ? null : epochMs('sentAt', sentAt);
  if (sent !== null && typeof sent !== 'number') return sent;
  if (clientTs < 0 || clientTs > maxEpochMs || (sent !== null && (sent < 0 || sent > maxEpochMs))) {
    return fail('TS_OUT_OF_RANGE', '`ts` and `sentAt` must be epoch milliseconds');
  }
  const corrected = sent === null ? clientTs : clientTs + (receivedAt - sent);
  if (corrected < receivedAt - limits.maxPastMs || corrected > receivedAt + limits.maxFutureMs) {
    return fail(
      'TS_OUT_OF_RANGE',
      `ts ${corrected} is outside [now − ${limits.maxPastMs} ms, now + ${limits.maxFutureMs} ms]`,
    );
  }
  return { clientTs, sent, corrected };
}

/**
 * A time field as whole epoch ms: a number, or a MessagePack timestamp (ext −1, any of its
 * three sizes), which msgpackr decodes to a Date. A bigint is an integer past 2^53 ms, far
 * outside the years DateTime64(3) holds.
 */
function epochMs(name: string, value: unknown): number | Failure {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? fail('BAD_FIELD_TYPE', `\`${name}\` is not a valid timestamp`) : ms;
  }
  if (typeof value === 'bigint')
    return fail('TS_OUT_OF_RANGE', '`ts` and `sentAt` must be epoch milliseconds');
  if (typeof value !== 'number' || !Number.isFinite(value))
    return fail('BAD_FIELD_TYPE', `\`${name}\` must be a number (ms)`);
  return Math.round(value);
}

function checkString(
  name: string,
  value: unknown,
  required: boolean,
  max: number,
): Validated | undefined {
  if (value === undefined || value === null) {
    return required ? fail('MISSING_FIELD', `\`${name}\` is required`) : undefined;
  }
  if (typeof value !== 'string') return fail('BAD_FIELD_TYPE', `\`${name}\` must be a string`);
  if (required && value.length === 0) return fail('MISSING_FIELD', `\`${name}\` must not be empty`);
  if (value.length > max) return fail('FIELD_TOO_LONG', `\`${name}\` is over ${max} characters`);
  if (!value.isWellFormed())
    return fail('BAD_FIELD_TYPE', `\`${name}\` is not well-formed Unicode`);
  return undefined;
}

/**
 * A props integer past ±2^53 (decoded from uint64/int64 as a bigint) is kept exactly as its
 * decimal string, as JSON APIs keep 64-bit ids (`id_str`): a float would round an id and
 * JSON cannot hold a bigint. Written back so the stored JSON and the rules see the same value.
 */
function exactInteger<K extends string | number>(
  holder: Record<K, unknown>,
  key: K,
  maxLength: number,
): unknown {
  const value = holder[key];
  if (typeof value !== 'bigint' || tooManyDigits(value, maxLength)) return value;
  return (holder[key] = value.toString());
}

let digitBounds = { maxLength: 0, above: 0n, below: 0n };

/**
 * Whether a bigint's decimal form (with its '-') is longer than `maxLength`, told without
 * writing it: msgpackr's bigint extension (0x42) carries integers of any size, and writing a
 * 1 MiB one in decimal holds the event loop for seconds.
 */
function tooManyDigits(value: bigint, maxLength: number): boolean {
  if (digitBounds.maxLength !== maxLength) {
    const above = 10n ** BigInt(maxLength);
    digitBounds = { maxLength, above, below: -(above / 10n) };
  }
  return value >= digitBounds.above || value <= digitBounds.below;
}

/** Walks props: depth, key and string lengths, and only JSON-representable values. */
function checkValue(value: unknown, depth: number, limits: Limits): Validated | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > limits.maxStringLength
        ? fail('FIELD_TOO_LONG', `a props string is over ${limits.maxStringLength} characters`)
        : undefined;
    case 'number':
    case 'boolean':
      return undefined;
    case 'bigint': // `exactInteger` writes out every other one
      return fail('FIELD_TOO_LONG', `a props integer is over ${limits.maxStringLength} digits`);
    case 'object': {
      if (value === null || value instanceof Date) return undefined;
      if (depth > limits.maxPropsDepth)
        return fail('PROPS_TOO_DEEP', `props nest deeper than ${limits.maxPropsDepth}`);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const error = checkValue(
            exactInteger(value, i, limits.maxStringLength),
            depth + 1,
            limits,
          );
          if (error) return error;
        }
        return undefined;
      }
      if (!isMap(value))
        return fail(
          'BAD_FIELD_TYPE',
          'props hold only strings, numbers, booleans, null, arrays and maps',
        );
      for (const key in value) {
        if (key.length > limits.maxKeyLength)
          return fail('FIELD_TOO_LONG', `a props key is over ${limits.maxKeyLength} characters`);
        const error = checkValue(
          exactInteger(value, key, limits.maxStringLength),
          depth + 1,
          limits,
        );
        if (error) return error;
      }
      return undefined;
    }
    default:
      return fail('BAD_FIELD_TYPE', `props cannot hold a ${typeof value}`);
  }
}
