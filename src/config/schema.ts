import { z } from 'zod';
import { analyticsSchema } from './analytics-schema.js';
import { corsSchema, encryptionSchema, tlsSchema } from './security-schema.js';

/**
 * What a key may do. `users:read` reads user data (inboxes, preferences, decisions), which
 * `read` alone does not: a read key may sit in a dashboard page.
 */
export const scopeSchema = z.enum(['ingest', 'read', 'admin', 'users:read']);

const keySchema = z.object({
  key: z.string().min(16, 'keys must be at least 16 characters'),
  scopes: z.array(scopeSchema).min(1),
  /** Shown by `GET /v1/keys`, so an operator can tell configured keys apart. */
  name: z.string().min(1).max(64).optional(),
});

/**
 * The schemas of what a project defines (metric streams, notification rules, frequency caps),
 * each owned by the layer that runs it: configuration validates them without importing them.
 */
export interface ProjectSchemas<
  Stream extends z.ZodType = z.ZodType,
  Rule extends z.ZodType = z.ZodType,
  Cap extends z.ZodType = z.ZodType,
  Jwt extends z.ZodType = z.ZodType,
> {
  stream: Stream;
  rule: Rule;
  cap: Cap;
  /** How the project's users sign in with their identity provider's JWTs (`auth.jwt`). */
  jwt: Jwt;
}

function projectSchema<
  S extends z.ZodType,
  R extends z.ZodType,
  C extends z.ZodType,
  J extends z.ZodType,
>(schemas: ProjectSchemas<S, R, C, J>) {
  return z.object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'project ids are lowercase [a-z0-9_-], at most 64'),
    keys: z.array(keySchema).min(1),
    /** Metric streams of the project; the admin API can add, replace and delete more. */
    streams: z.array(schemas.stream).optional(),
    /** Notification rules of the project; the admin API can add, replace and delete more. */
    rules: z.array(schemas.rule).optional(),
    /** Frequency caps per user and category, applied by the notification router. */
    notifications: z.object({ caps: z.array(schemas.cap).default([]) }).prefault({}),
    /** End users' credentials; strict, so a misspelt `jwt` is an error, not no JWTs. */
    auth: z.strictObject({ jwt: schemas.jwt.optional() }).prefault({}),
  });
}

/** `fcm.googleapis.com`, or `*.push.apple.com` for every name under push.apple.com. */
const hostPattern = /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$/i;

/** Per-frame and per-event limits. Frames over a frame limit are refused whole. */
const limitsSchema = z.object({
  maxFrameBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024), // bytes per frame or HTTP body
  maxEventsPerFrame: z.number().int().min(1).default(1000),
  maxPropsDepth: z.number().int().min(1).default(5), // nesting levels below `props`
  maxPropsBytes: z
    .number()
    .int()
    .min(64)
    .default(32 * 1024), // bytes of props as JSON
  maxKeyLength: z.number().int().min(1).default(128), // characters in a props key
  maxStringLength: z.number().int().min(1).default(8192), // characters in a props string
  maxIdLength: z.number().int().min(1).default(128), // characters in id, type, userId, …
  maxPastMs: z
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600_000), // ts older than now − this is refused
  maxFutureMs: z.number().int().min(0).default(3600_000), // ts newer than now + this is refused
  // Events per connection: each ingest socket has its own bucket; HTTP batches, which have
  // no connection of their own, share one bucket per key.
  eventsPerSecond: z.number().positive().default(100_000), // per connection, token bucket refill
  burstEvents: z.number().int().min(1).default(200_000), // per connection, token bucket size
  // Per API key, over all its sockets and HTTP requests together (token buckets shared by
  // them). Requests: read, admin and user routes over HTTP, and live socket messages; POST
  // /v1/events takes events, not requests. The defaults sit far above the bench's loads of
  // one key: ~170,000 events/s acknowledged (storage-bound), up to 19,000 dashboards
  // subscribing at once.
  keyEventsPerSecond: z.number().positive().default(1_000_000), // events/s per key, refill
  keyBurstEvents: z.number().int().min(1).default(2_000_000), // events per key, bucket size
  keyRequestsPerSecond: z.number().positive().default(1000), // requests/s per key, refill
  keyBurstRequests: z.number().int().min(1).default(20_000), // requests per key, bucket size
  // Per user: user routes called with the user's token, and user socket messages.
  userRequestsPerSecond: z.number().positive().default(20), // requests/s per user, refill
  userBurstRequests: z.number().int().min(1).default(100), // requests per user, bucket size
  badFramesBeforeClose: z.number().int().min(1).default(10), // consecutive frame errors
  // Per client address (uWS's remote address: behind a proxy, the proxy's). 0: no limit.
  connectionsPerIp: z.number().int().min(0).default(0), // open sockets, all endpoints together
  upgradesPerIpPerSecond: z.number().min(0).default(0), // socket upgrades/s, refill; burst as many
});

const storageSchema = z.object({
  flushIntervalMs: z.number().int().min(1).default(50), // longest an accepted row waits for a batch
  maxBatchRows: z.number().int().min(1).default(20_000), // a batch is flushed at this many rows
  maxBufferedRows: z.number().int().min(1).default(200_000), // above this, frames get BACKPRESSURE
  insertTimeoutMs: z.number().int().min(100).default(10_000), // then the batch goes to the spool
  maxSpoolBytes: z
    .number()
    .int()
    .min(0)
    .default(1024 * 1024 * 1024), // disk the spool may use
  retentionDays: z.number().int().min(1).default(90), // raw events TTL
  dedupWindowMs: z.number().int().min(0).default(3600_000), // ids remembered in memory
  dedupMaxIds: z.number().int().min(1).default(2_000_000), // bound on ids remembered in memory
});

/** Cluster mode (`redisUrl` set): how nodes share state through Redis. */
const clusterSchema = z.object({
  /**
   * Acks are durable in Redis only with `appendonly yes` + `appendfsync always`. `check` reads
   * CONFIG at start and refuses anything else; `assume-always` is the operator's word for a
   * managed Redis whose CONFIG is disabled; `unsafe` starts anyway with a warning.
   */
  redisDurability: z.enum(['check', 'assume-always', 'unsafe']).default('check'),
  /** Prefix of every key backline writes, so several deployments can share one Redis. */
  redisKeyPrefix: z.string().default('bl:'),
  /** This node's name in logs, metrics and its storage consumer; unset: `<hostname>-<pid>-<random>`. */
  nodeId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'node ids are [A-Za-z0-9._-], at most 100')
    .optional(),
  /**
   * Without `clickhouseUrl`: `owner` on exactly one node (opens the embedded ClickHouse, stores
   * the event log, answers the others' queries over Redis), `remote` on the others.
   */
  storageRole: z.enum(['owner', 'remote']).optional(),
  /** Event log partitions: the same on every node (checked against Redis at start). */
  partitions: z.number().int().min(1).max(1024).default(16),
  maxLogEntries: z.number().int().min(1).default(1_000_000), // log entries, all partitions, before BACKPRESSURE
  claimIdleMs: z.number().int().min(1000).default(60_000), // log entries a storage consumer holds this long are taken over
  leaseTtlMs: z.number().int().min(1000).default(5000), // a dead node's partitions and timers move after this long
});

/** Dashboards on `/v1/live` that fall behind (see README, Live subscriptions). */
const liveSchema = z.object({
  slowBytes: z
    .number()
    .int()
    .min(1024)
    .default(256 * 1024), // unsent bytes past which a dashboard leaves the topics for the feeds
  maxPendingUpdates: z.number().int().min(1).default(1000), // windows a feed holds per stream or key
  stalledCloseMs: z.number().int().min(1000).default(30_000), // a slow dashboard taking no byte this long is closed
});

const settingsShape = {
  port: z.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  dataDir: z.string().min(1).default('./data'),
  clickhouseUrl: z.url().optional(),
  /** Set: cluster mode, the node joins the others through this Redis (see README, Cluster mode). */
  redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  devKey: z.string().min(16).optional(),
  /** Web push: VAPID keys (both or neither; generated once into the data folder when unset). */
  push: z
    .object({
      vapidPublicKey: z.string().optional(),
      vapidPrivateKey: z.string().optional(),
      vapidSubject: z.string().optional(),
      /** Loopback push endpoints, http: included: only for a push-service double on this machine. */
      allowInsecureLoopback: z.boolean().default(false),
      /** When any, push endpoints only on these hosts (`fcm.googleapis.com`, `*.push.apple.com`). */
      allowedHosts: z
        .array(z.string().regex(hostPattern, 'a host name, or `*.` and a domain'))
        .default([]),
    })
    .prefault({}),
  /** Email: SendGrid and/or SMTP (with both, SMTP takes over while SendGrid keeps failing). */
  email: z
    .object({
      from: z.object({ email: z.email(), name: z.string().optional() }).optional(), // required to send email
      replyTo: z.object({ email: z.email(), name: z.string().optional() }).optional(),
      sendgrid: z
        .object({
          apiKey: z.string().min(1).optional(),
          baseUrl: z.url().default('https://api.sendgrid.com'), // a relay or a test double
          webhookPublicKey: z.string().min(1).optional(), // verifies POST /v1/webhooks/sendgrid
          webhookMaxBodyBytes: z
            .number()
            .int()
            .min(1024)
            .default(256 * 1024), // a webhook body past this is refused 413, unread
          webhookMaxInFlight: z.number().int().min(1).default(16), // unverified bodies at once
          webhookBodyTimeoutMs: z.number().int().min(100).default(10_000), // to receive a body
          timeoutMs: z.number().int().min(100).default(15_000),
        })
        .prefault({}),
      smtp: z
        .object({
          url: z.string().min(1).optional(),
          maxConnections: z.number().int().min(1).default(5),
          requireTls: z.boolean().default(false), // send only after STARTTLS, never in clear
          caFile: z.string().min(1).optional(), // PEM CA (or self-signed cert) to trust as well
        })
        .prefault({}),
      unsubscribe: z
        .object({
          // The https origin users reach this server at: links are <baseUrl>/v1/unsubscribe/<token>
          baseUrl: z
            .url()
            .refine((url) => url.startsWith('https://'), 'RFC 8058 links are https')
            .optional(),
          // Signs the links (32+ characters); generated once into the shared state when unset
          secret: z.string().min(32).optional(),
          // Still verify links they signed (a rotation's overlap); drop one to expire its links
          previousSecrets: z.array(z.string().min(32)).default([]),
        })
        .prefault({}),
      ses: z
        .object({
          region: z.string().min(1).optional(), // enables Amazon SES (v2 API) in that region
          endpoint: z.url().optional(), // another endpoint than the region's (a relay, a double)
          // Both or neither; without them the AWS SDK's default chain (env, profile, role)
          accessKeyId: z.string().min(1).optional(),
          secretAccessKey: z.string().min(1).optional(),
          configurationSet: z.string().min(1).optional(), // whose event destination feeds SNS
          timeoutMs: z.number().int().min(100).default(15_000),
          sns: z
            .object({
              // Topics whose SES events POST /v1/webhooks/ses takes; none: no webhook
              topicArns: z
                .array(z.string().regex(/^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN'))
                .default([]),
              // Hosts SNS signing certificates (and SubscribeURLs) may come from, https only
              certHostPattern: z
                .string()
                .refine(isRegExp, 'a regular expression')
                .default('^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$'),
            })
            .prefault({}),
        })
        .refine((s) => !s.accessKeyId === !s.secretAccessKey, {
          message: 'set both the access key id and the secret access key, or neither',
          path: ['secretAccessKey'],
        })
        .prefault({}),
      failover: z
        .object({
          // Which configured providers send, first to last: each takes over while the one
          // before keeps failing
          order: z
            .array(z.enum(['sendgrid', 'ses', 'smtp']))
            .min(1)
            .refine((order) => new Set(order).size === order.length, 'each provider once')
            .default(['sendgrid', 'ses', 'smtp']),
          failuresToOpen: z.number().int().min(1).default(3), // consecutive failed batches
          coolDownMs: z.number().int().min(100).default(30_000), // before probing the primary again
        })
        .prefault({}),
      rateLimit: z
        .object({
          perSecond: z.number().positive().default(500),
          burst: z.number().int().min(1).default(1000),
          maxWaitMs: z.number().int().min(0).default(2000),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Signs user tokens for `/v1/user`; generated once into the data folder when unset. */
  userTokenSecret: z.string().min(32).optional(),
  encryption: encryptionSchema.prefault({}),
  tls: tlsSchema.prefault({}),
  cors: corsSchema.prefault({}),
  /** Start even when uWebSockets.js fell back to its slow `ws` shim. */
  allowWsFallback: z.boolean().default(false),
  shutdownTimeoutMs: z.number().int().min(100).default(15_000),
};

/** GDPR erasure (see README, Privacy). */
const privacySchema = z.object({
  eraseFlushTimeoutMs: z.number().int().min(100).default(30_000), // wait for rows accepted before an erase to be durable
  eraseStepPauseMs: z.number().int().min(0).default(0), // pause after each erase step: only for tests that interrupt one
});

/** After `projects`, where they always stood: problems are reported in this order. */
const sectionsShape = {
  limits: limitsSchema.prefault({}),
  storage: storageSchema.prefault({}),
  cluster: clusterSchema.prefault({}),
  live: liveSchema.prefault({}),
  analytics: analyticsSchema.prefault({}),
  privacy: privacySchema.prefault({}),
};

/**
 * The whole configuration, with each project's definitions checked by their owners' schemas.
 *
 * @example
 * const configSchema = createConfigSchema({ stream: streamSpecSchema, rule: ruleSpecSchema, cap: capSchema, jwt: jwtSettingsSchema });
 * configSchema.parse({}).limits.maxFrameBytes; // 1048576
 */
export function createConfigSchema<
  S extends z.ZodType,
  R extends z.ZodType,
  C extends z.ZodType,
  J extends z.ZodType,
>(schemas: ProjectSchemas<S, R, C, J>) {
  return z.object({
    ...settingsShape,
    projects: z.array(projectSchema(schemas)).default([]),
    ...sectionsShape,
  });
}

export type Config<P extends ProjectSchemas = ProjectSchemas> = z.output<
  ReturnType<typeof createConfigSchema<P['stream'], P['rule'], P['cap'], P['jwt']>>
>;
export type Limits = Config['limits'];
export type StorageSettings = Config['storage'];
export type ClusterSettings = Config['cluster'];
export type TlsSettings = Config['tls'];
export type CorsSettings = Config['cors'];
export type Scope = z.infer<typeof scopeSchema>;
export type ProjectConfig<P extends ProjectSchemas = ProjectSchemas> =
  Config<P>['projects'][number];

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
