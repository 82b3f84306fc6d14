import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { resolve } from 'node:path';
import { createConfigSchema, type Config, type ProjectSchemas } from './schema.js';

/** Environment variables and the setting each one sets. Environment wins over the file. */
const envSettings = {
  PORT: { path: ['port'], kind: 'number' },
  HOST: { path: ['host'], kind: 'string' },
  DATA_DIR: { path: ['dataDir'], kind: 'string' },
  CLICKHOUSE_URL: { path: ['clickhouseUrl'], kind: 'string' },
  REDIS_URL: { path: ['redisUrl'], kind: 'string' },
  LOG_LEVEL: { path: ['logLevel'], kind: 'string' },
  BACKLINE_DEV_KEY: { path: ['devKey'], kind: 'string' },
  BACKLINE_USER_TOKEN_SECRET: { path: ['userTokenSecret'], kind: 'string' },
  SENDGRID_API_KEY: { path: ['email', 'sendgrid', 'apiKey'], kind: 'string' },
  SENDGRID_BASE_URL: { path: ['email', 'sendgrid', 'baseUrl'], kind: 'string' },
  SENDGRID_WEBHOOK_PUBLIC_KEY: { path: ['email', 'sendgrid', 'webhookPublicKey'], kind: 'string' },
  SMTP_URL: { path: ['email', 'smtp', 'url'], kind: 'string' },
  SMTP_REQUIRE_TLS: { path: ['email', 'smtp', 'requireTls'], kind: 'boolean' },
  SMTP_CA_FILE: { path: ['email', 'smtp', 'caFile'], kind: 'string' },
  SES_REGION: { path: ['email', 'ses', 'region'], kind: 'string' },
  SES_ENDPOINT: { path: ['email', 'ses', 'endpoint'], kind: 'string' },
  SES_CONFIGURATION_SET: { path: ['email', 'ses', 'configurationSet'], kind: 'string' },
  UNSUBSCRIBE_BASE_URL: { path: ['email', 'unsubscribe', 'baseUrl'], kind: 'string' },
  UNSUBSCRIBE_SECRET: { path: ['email', 'unsubscribe', 'secret'], kind: 'string' },
  BACKLINE_ALLOW_WS_FALLBACK: { path: ['allowWsFallback'], kind: 'boolean' },
  BACKLINE_PUSH_ALLOW_INSECURE_LOOPBACK: {
    path: ['push', 'allowInsecureLoopback'],
    kind: 'boolean',
  },
  BACKLINE_PUSH_ALLOWED_HOSTS: { path: ['push', 'allowedHosts'], kind: 'list' },
  BACKLINE_SHUTDOWN_TIMEOUT_MS: { path: ['shutdownTimeoutMs'], kind: 'number' },
  BACKLINE_REDIS_DURABILITY: { path: ['cluster', 'redisDurability'], kind: 'string' },
  BACKLINE_REDIS_KEY_PREFIX: { path: ['cluster', 'redisKeyPrefix'], kind: 'string' },
  BACKLINE_NODE_ID: { path: ['cluster', 'nodeId'], kind: 'string' },
  BACKLINE_STORAGE_ROLE: { path: ['cluster', 'storageRole'], kind: 'string' },
  BACKLINE_CLUSTER_PARTITIONS: { path: ['cluster', 'partitions'], kind: 'number' },
  BACKLINE_ENCRYPTION_KEY: { path: ['encryption', 'key'], kind: 'string' },
  BACKLINE_ENCRYPTION_KEYS: { path: ['encryption', 'keys'], kind: 'list' },
  TLS_CERT_FILE: { path: ['tls', 'certFile'], kind: 'string' },
  TLS_KEY_FILE: { path: ['tls', 'keyFile'], kind: 'string' },
  TLS_KEY_PASSPHRASE: { path: ['tls', 'keyPassphrase'], kind: 'string' },
  BACKLINE_CORS_ORIGINS: { path: ['cors', 'origins'], kind: 'list' },
  BACKLINE_CONNECTIONS_PER_IP: { path: ['limits', 'connectionsPerIp'], kind: 'number' },
  BACKLINE_UPGRADES_PER_IP_PER_SECOND: {
    path: ['limits', 'upgradesPerIpPerSecond'],
    kind: 'number',
  },
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads `BACKLINE_CONFIG` (a JSON file, optional), overlays the environment and validates
 * the result, projects' definitions by their owners' `schemas`. Every problem names the
 * environment variable or the file path of the setting.
 *
 * @example
 * const config = loadConfig(process.env, projectSchemas); // throws ConfigError naming e.g. PORT
 */
export function loadConfig<
  S extends z.ZodType,
  R extends z.ZodType,
  C extends z.ZodType,
  J extends z.ZodType,
>(env: Env, schemas: ProjectSchemas<S, R, C, J>): Config<ProjectSchemas<S, R, C, J>> {
  const file = env.BACKLINE_CONFIG;
  const raw: Record<string, unknown> = file ? readConfigFile(file) : {};
  const fromEnv = new Map<string, string>();

  for (const [name, setting] of Object.entries(envSettings)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(raw, setting.path, parseEnvValue(value, setting.kind));
    fromEnv.set(setting.path.join('.'), name);
  }

  const parsed = createConfigSchema(schemas).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const path = issue.path.join('.');
        // A list item's issue names its index: the variable set the whole list.
        const variable = fromEnv.get(path) ?? fromEnv.get(issue.path.slice(0, -1).join('.'));
        const source = variable ?? (file ? `${path} in ${file}` : path);
        return `${source}: ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

function readConfigFile(file: string): Record<string, unknown> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`BACKLINE_CONFIG: cannot read ${path}: ${(err as Error).message}`]);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error('the top level must be a JSON object');
    }
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError([`BACKLINE_CONFIG: ${path} is not valid: ${(err as Error).message}`]);
  }
}

/** Keeps a value that does not parse as it is, so the schema reports it with its name. */
function parseEnvValue(value: string, kind: 'number' | 'string' | 'boolean' | 'list'): unknown {
  if (kind === 'list') return value.split(',').map((item) => item.trim());
  if (kind === 'number') return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (kind === 'boolean') {
    if (/^(1|true|yes)$/i.test(value)) return true;
    if (/^(0|false|no)$/i.test(value)) return false;
  }
  return value;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node[key] = typeof next === 'object' && next !== null ? next : {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
