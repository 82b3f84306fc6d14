/**
 * Every error backline puts on the wire, in one catalogue (as Fastify's `lib/errors.js`).
 * Clients and tests match on `code`; the message is for humans and may change.
 * `status` is the HTTP status; an error that ends a socket closes it with one of
 * `closeCodes` (below), chosen where the socket is closed.
 */
export const catalogue = {
  // Authentication (before any upgrade or body is read).
  UNAUTHORIZED: { status: 401, message: 'missing or unknown key' },
  FORBIDDEN: { status: 403, message: 'this key may not do that' },

  // Frame-level errors: the whole frame or request body is refused, nothing in it is stored.
  BAD_MSGPACK: { status: 400, message: 'body is not valid MessagePack' },
  BAD_JSON: { status: 400, message: 'body is not valid JSON' },
  NOT_A_MAP: { status: 400, message: 'frame must be one MessagePack map' },
  UNKNOWN_TYPE: { status: 400, message: 'unknown message type `t`' },
  BAD_FRAME: { status: 400, message: 'frame fields are missing or of the wrong type' },
  TEXT_FRAME: { status: 400, message: 'frames must be binary MessagePack' },
  FRAME_TOO_LARGE: { status: 413, message: 'frame exceeds limits.maxFrameBytes' },
  TOO_MANY_EVENTS: { status: 413, message: 'frame exceeds limits.maxEventsPerFrame' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'use application/msgpack or application/json' },
  RATE_LIMITED: { status: 429, message: 'event rate exceeded, retry after retryAfterMs' },
  BACKPRESSURE: { status: 503, message: 'storage is behind, retry after retryAfterMs' },
  STORAGE_FAILED: { status: 503, message: 'events could not be made durable, retry' },
  SHUTTING_DOWN: { status: 503, message: 'server is shutting down, retry elsewhere or later' },

  // Live subscriptions (`/v1/live`).
  UNKNOWN_STREAM: { status: 404, message: 'no such stream in this project' },
  TOO_MANY_SUBSCRIPTIONS: { status: 429, message: 'too many subscriptions on this socket' },
  BAD_STREAM: { status: 400, message: 'stream definition is invalid' },
  BAD_RULE: { status: 400, message: 'rule definition is invalid' },
  UNKNOWN_RULE: { status: 404, message: 'no such rule in this project' },
  BAD_CAMPAIGN: { status: 400, message: 'campaign definition is invalid' },
  UNKNOWN_CAMPAIGN: { status: 404, message: 'no such campaign in this project' },
  CAMPAIGN_FINISHED: {
    status: 409,
    message: 'the campaign has finished: nothing is left to cancel',
  },

  // Users: the in-app socket (`/v1/user`) and `/v1/users/:id/…`.
  BAD_TOKEN: { status: 401, message: 'user token is invalid or expired' },
  BAD_PREFERENCES: { status: 400, message: 'preferences are invalid' },
  BAD_SUBSCRIPTION: { status: 400, message: 'push subscription is invalid' },
  AUTH_UNAVAILABLE: {
    status: 503,
    message: "the identity provider's keys could not be fetched, retry after retryAfterMs",
  },

  // API keys (`/v1/keys`).
  BAD_KEY_SPEC: { status: 400, message: 'API key request is invalid' },
  UNKNOWN_KEY: { status: 404, message: 'no such API key in this project' },

  // Email templates (`/v1/templates`).
  BAD_TEMPLATE: { status: 400, message: 'email template or layout is invalid' },
  UNKNOWN_TEMPLATE: { status: 404, message: 'no such email template in this project' },
  BAD_UNSUBSCRIBE_LINK: {
    status: 404,
    message: 'this unsubscribe link is not valid (mistyped, or its signing key was rotated away)',
  },

  // Privacy (`DELETE /v1/users/:id`).
  ERASE_INCOMPLETE: {
    status: 503,
    message: 'the erase stopped part way; it resumes on its own, call again to wait for it',
  },

  // Event-level rejections: reported in `rejected[]` with the event's index.
  EVENT_NOT_A_MAP: { status: 400, message: 'event must be a map' },
  MISSING_FIELD: { status: 400, message: 'a required field is missing' },
  BAD_FIELD_TYPE: { status: 400, message: 'a field has the wrong type' },
  FIELD_TOO_LONG: { status: 400, message: 'a string is longer than its limit' },
  PROPS_TOO_DEEP: { status: 400, message: 'props nest deeper than limits.maxPropsDepth' },
  PROPS_TOO_LARGE: { status: 400, message: 'props exceed limits.maxPropsBytes' },
  TS_OUT_OF_RANGE: { status: 400, message: 'ts is too far in the past or future' },

  // Analytics (`/v1/analytics/…`, `/v1/cohorts`, `/v1/export/events`).
  BAD_COHORT: { status: 400, message: 'cohort definition is invalid' },
  UNKNOWN_COHORT: { status: 404, message: 'no such cohort in this project' },
  EXPORT_BUSY: { status: 503, message: 'too many exports running, retry after retryAfterMs' },
  EXPORT_UNAVAILABLE: { status: 503, message: 'this node cannot stream exports' },
  BAD_JOB: { status: 400, message: 'warehouse job definition is invalid' },
  UNKNOWN_JOB: { status: 404, message: 'no such warehouse job in this project' },
  JOB_RUNNING: { status: 409, message: 'the job is running; ask again once it is done' },
  JOB_NO_ROWS: { status: 404, message: 'the job has no completed run yet' },

  // Predictions (`/v1/users/:id/recommendations`, `/v1/predictions/…`).
  NO_MODEL: { status: 404, message: 'no model job of this kind has a completed run yet' },

  // HTTP surface.
  NOT_FOUND: { status: 404, message: 'no such route' },
  BAD_SIGNATURE: { status: 401, message: 'webhook signature is missing, invalid or stale' },
  WEBHOOK_BUSY: { status: 503, message: 'too many webhook bodies in flight, retry later' },
  SNS_CERT_UNAVAILABLE: {
    status: 503,
    message: 'the SNS signing certificate could not be fetched, retry later',
  },
  BAD_QUERY: { status: 400, message: 'query parameters are missing or invalid' },
  NOT_READY: { status: 503, message: 'not ready' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'this page’s origin is not in cors.origins' },
  TOO_MANY_CONNECTIONS: { status: 429, message: 'too many open sockets from this address' },
  TOO_MANY_UPGRADES: {
    status: 429,
    message: 'too many socket upgrades from this address, retry after retryAfterMs',
  },
  INTERNAL: { status: 500, message: 'internal error' },

  // Encryption at rest.
  SEALED_UNREADABLE: {
    status: 500,
    message: 'a stored record is encrypted with a key this server does not hold',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof catalogue;

/** WebSocket close codes (RFC 6455 §7.4.1) backline uses. */
export const closeCodes = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
} as const;

export class BacklineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** For RATE_LIMITED, BACKPRESSURE and the like: when the sender may try again. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(detail ?? catalogue[code].message, options);
    this.name = 'BacklineError';
    this.code = code;
    this.status = catalogue[code].status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isBacklineError(err: unknown): err is BacklineError {
  return err instanceof BacklineError;
}
