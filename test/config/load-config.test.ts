import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectSchemas } from '../../src/compose/config.js';
import { ConfigError, loadConfig as loadWith } from '../../src/config/load-config.js';

/** The configuration as the server loads it: projects checked by their owners' schemas. */
const loadConfig = (env: Record<string, string>) => loadWith(env, projectSchemas);

const fileWith = (value: unknown) => {
  const file = join(mkdtempSync(join(tmpdir(), 'backline-config-')), 'config.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
};

describe('loadConfig', () => {
  it('has defaults that run a server', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('./data');
    expect(config.limits.maxFrameBytes).toBe(1024 * 1024);
    expect(config.storage.flushIntervalMs).toBe(50);
  });

  it('reads the file and lets the environment win', () => {
    const file = fileWith({ port: 9000, host: '127.0.0.1', limits: { maxEventsPerFrame: 10 } });
    const config = loadConfig({ BACKLINE_CONFIG: file, PORT: '9100', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ port: 9100, host: '127.0.0.1', logLevel: 'debug' });
    expect(config.limits).toMatchObject({ maxEventsPerFrame: 10, maxFrameBytes: 1024 * 1024 });
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT: /m],
    [{ PORT: '70000' }, /^PORT: /m],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /m],
    [{ CLICKHOUSE_URL: 'not a url' }, /^CLICKHOUSE_URL: /m],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL: /m],
    [{ BACKLINE_DEV_KEY: 'short' }, /^BACKLINE_DEV_KEY: /m],
  ])('names the variable in %j', (env, pattern) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as ConfigError).problems.join('\n')).toMatch(pattern);
    }
  });

  it('keeps push endpoints to public https hosts unless told otherwise', () => {
    expect(loadConfig({}).push).toMatchObject({ allowInsecureLoopback: false, allowedHosts: [] });
    const file = fileWith({ push: { allowedHosts: ['fcm.googleapis.com'] } });
    expect(loadConfig({ BACKLINE_CONFIG: file }).push.allowedHosts).toEqual(['fcm.googleapis.com']);
    const config = loadConfig({
      BACKLINE_PUSH_ALLOW_INSECURE_LOOPBACK: '1',
      BACKLINE_PUSH_ALLOWED_HOSTS: '*.push.services.mozilla.com, fcm.googleapis.com',
    });
    expect(config.push).toMatchObject({
      allowInsecureLoopback: true,
      allowedHosts: ['*.push.services.mozilla.com', 'fcm.googleapis.com'],
    });
    expect(() =>
      loadConfig({ BACKLINE_PUSH_ALLOWED_HOSTS: 'fcm.googleapis.com,https://x' }),
    ).toThrow(/^\s*BACKLINE_PUSH_ALLOWED_HOSTS: a host name/m);
  });

  it('reads the SMTP security settings from the environment', () => {
    expect(loadConfig({}).email.smtp).toMatchObject({ requireTls: false });
    const env = { SMTP_REQUIRE_TLS: 'true', SMTP_CA_FILE: '/etc/backline/smtp-ca.pem' };
    expect(loadConfig(env).email.smtp).toMatchObject({
      requireTls: true,
      caFile: '/etc/backline/smtp-ca.pem',
    });
  });

  it('checks Redis durability in cluster mode unless told otherwise', () => {
    expect(loadConfig({}).cluster).toMatchObject({
      redisDurability: 'check',
      redisKeyPrefix: 'bl:',
    });
    const file = fileWith({ cluster: { redisDurability: 'unsafe', redisKeyPrefix: 'x:' } });
    expect(loadConfig({ BACKLINE_CONFIG: file }).cluster).toMatchObject({
      redisDurability: 'unsafe',
      redisKeyPrefix: 'x:',
    });
    const config = loadConfig({
      BACKLINE_CONFIG: file,
      BACKLINE_REDIS_DURABILITY: 'assume-always',
      BACKLINE_REDIS_KEY_PREFIX: 'shop:',
    });
    expect(config.cluster).toMatchObject({
      redisDurability: 'assume-always',
      redisKeyPrefix: 'shop:',
    });
    expect(() => loadConfig({ BACKLINE_REDIS_DURABILITY: 'always' })).toThrow(
      /^\s*BACKLINE_REDIS_DURABILITY: /m,
    );
  });

  it('reads the cluster settings, with defaults every node shares', () => {
    expect(loadConfig({}).cluster).toEqual({
      redisDurability: 'check',
      redisKeyPrefix: 'bl:',
      partitions: 16,
      maxLogEntries: 1_000_000,
      claimIdleMs: 60_000,
      leaseTtlMs: 5000,
    });
    const file = fileWith({ cluster: { maxLogEntries: 500, claimIdleMs: 5000, leaseTtlMs: 2000 } });
    const config = loadConfig({
      BACKLINE_CONFIG: file,
      REDIS_URL: 'redis://127.0.0.1:6379',
      BACKLINE_NODE_ID: 'backline-1',
      BACKLINE_STORAGE_ROLE: 'owner',
      BACKLINE_CLUSTER_PARTITIONS: '8',
    });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.cluster).toMatchObject({
      nodeId: 'backline-1',
      storageRole: 'owner',
      partitions: 8,
      maxLogEntries: 500,
      claimIdleMs: 5000,
      leaseTtlMs: 2000,
    });
  });

  it.each([
    [{ BACKLINE_STORAGE_ROLE: 'writer' }, /^\s*BACKLINE_STORAGE_ROLE: /m],
    [{ BACKLINE_CLUSTER_PARTITIONS: '0' }, /^\s*BACKLINE_CLUSTER_PARTITIONS: /m],
    [{ BACKLINE_CLUSTER_PARTITIONS: 'many' }, /^\s*BACKLINE_CLUSTER_PARTITIONS: /m],
    [{ BACKLINE_NODE_ID: 'node one' }, /^\s*BACKLINE_NODE_ID: /m],
  ])('names the cluster variable in %j', (env, pattern) => {
    expect(() => loadConfig(env)).toThrow(pattern);
  });

  it('reads the encryption key or key ring, refusing bad keys without repeating them', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({}).encryption).toEqual({});
    expect(loadConfig({ BACKLINE_ENCRYPTION_KEY: key }).encryption.key).toBe(key);
    const ring = loadConfig({ BACKLINE_ENCRYPTION_KEYS: `k2:${key}, k1:${key}` }).encryption;
    expect(ring.keys).toEqual([`k2:${key}`, `k1:${key}`]);
    const short = Buffer.alloc(16, 7).toString('base64');
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
      throw new Error('accepted');
    };
    expect(problems({ BACKLINE_ENCRYPTION_KEY: short })).toMatch(
      /^BACKLINE_ENCRYPTION_KEY: must be base64 of 32 bytes/m,
    );
    expect(problems({ BACKLINE_ENCRYPTION_KEY: short })).not.toContain(short);
    expect(problems({ BACKLINE_ENCRYPTION_KEYS: `k1:${short}` })).toMatch(
      /^BACKLINE_ENCRYPTION_KEYS: entries are `id:base64/m,
    );
    expect(problems({ BACKLINE_ENCRYPTION_KEYS: `k1:${key},k1:${key}` })).toMatch(
      /^BACKLINE_ENCRYPTION_KEYS: key ids in the ring must differ/m,
    );
    expect(
      problems({ BACKLINE_ENCRYPTION_KEY: key, BACKLINE_ENCRYPTION_KEYS: `k1:${key}` }),
    ).toMatch(/^BACKLINE_ENCRYPTION_KEYS: set the key or the key ring, not both/m);
  });

  it('reads TLS files, CORS origins and per-address limits from the environment', () => {
    const config = loadConfig({
      TLS_CERT_FILE: '/etc/backline/cert.pem',
      TLS_KEY_FILE: '/etc/backline/key.pem',
      TLS_KEY_PASSPHRASE: 'secret',
      BACKLINE_CORS_ORIGINS: 'https://app.example, http://localhost:3000,https://*.example.com',
      BACKLINE_CONNECTIONS_PER_IP: '50',
      BACKLINE_UPGRADES_PER_IP_PER_SECOND: '5',
    });
    expect(config.tls).toEqual({
      certFile: '/etc/backline/cert.pem',
      keyFile: '/etc/backline/key.pem',
      keyPassphrase: 'secret',
    });
    expect(config.cors).toEqual({
      origins: ['https://app.example', 'http://localhost:3000', 'https://*.example.com'],
      maxAgeSeconds: 600,
    });
    expect(config.limits).toMatchObject({ connectionsPerIp: 50, upgradesPerIpPerSecond: 5 });
    expect(loadConfig({}).limits).toMatchObject({ connectionsPerIp: 0, upgradesPerIpPerSecond: 0 });
    expect(() => loadConfig({ TLS_CERT_FILE: '/etc/backline/cert.pem' })).toThrow(
      /^\s*tls\.keyFile: set both the certificate and the key file/m,
    );
    expect(() => loadConfig({ BACKLINE_CORS_ORIGINS: 'https://app.example/path' })).toThrow(
      /^\s*BACKLINE_CORS_ORIGINS: an origin/m,
    );
  });

  it('names the file and the path of a bad setting', () => {
    const file = fileWith({
      storage: { flushIntervalMs: 'soon' },
      projects: [{ id: 'Bad Id', keys: [] }],
    });
    expect(() => loadConfig({ BACKLINE_CONFIG: file })).toThrow(
      /storage\.flushIntervalMs in .*config\.json/,
    );
    expect(() => loadConfig({ BACKLINE_CONFIG: file })).toThrow(/projects\.0\.id in /);
  });

  it('checks projects’ streams, rules and caps with their owners’ schemas, naming the path', () => {
    const project = { id: 'shop', keys: [{ key: 'k'.repeat(16), scopes: ['read'] }] };
    const file = fileWith({
      projects: [
        {
          ...project,
          streams: [{ name: 'ok', window: { kind: 'tumbling', sizeMs: 1000 }, aggregates: [] }],
          rules: [{ name: 'r' }],
          notifications: { caps: [{}] },
        },
      ],
    });
    let problems: string[] = [];
    try {
      loadConfig({ BACKLINE_CONFIG: file });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems.some((p) => p.startsWith('projects.0.streams.0.aggregates in '))).toBe(true);
    expect(problems.some((p) => p.startsWith('projects.0.rules.0.'))).toBe(true);
    expect(problems.some((p) => p.startsWith('projects.0.notifications.caps.0.'))).toBe(true);
    const good = fileWith({ projects: [{ ...project, streams: [] }] });
    expect(loadConfig({ BACKLINE_CONFIG: good }).projects[0]).toMatchObject({
      streams: [],
      notifications: { caps: [] },
    });
  });

  it('checks a project’s user JWT settings with their owner’s schema; typos are errors', () => {
    const project = {
      id: 'shop',
      keys: [{ key: 'k'.repeat(16), scopes: ['users:read'], name: 'app' }],
    };
    const jwt = {
      jwksUrl: 'https://tenant.auth0.com/.well-known/jwks.json',
      issuer: 'https://tenant.auth0.com/',
    };
    const loaded = loadConfig({
      BACKLINE_CONFIG: fileWith({ projects: [{ ...project, auth: { jwt } }] }),
    });
    expect(loaded.projects[0]!.auth.jwt).toMatchObject({
      ...jwt,
      userIdClaim: 'sub',
      algorithms: ['RS256', 'ES256', 'EdDSA'],
    });
    expect(loaded.projects[0]!.keys[0]).toEqual({
      key: 'k'.repeat(16),
      scopes: ['users:read'],
      name: 'app',
    });
    expect(
      loadConfig({ BACKLINE_CONFIG: fileWith({ projects: [project] }) }).projects[0]!.auth,
    ).toEqual({});
    const problems = (value: object) => {
      try {
        loadConfig({ BACKLINE_CONFIG: fileWith({ projects: [{ ...project, ...value }] }) });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ auth: { jwts: jwt } })).toEqual([
      expect.stringMatching(/^projects\.0\.auth in .*Unrecognized key: "jwts"/),
    ]);
    expect(
      problems({ auth: { jwt: { ...jwt, jwksUrl: 'http://tenant.auth0.com/jwks' } } }),
    ).toEqual([expect.stringMatching(/^projects\.0\.auth\.jwt\.jwksUrl in .*https:/)]);
    expect(problems({ auth: { jwt: { ...jwt, audiense: 'x' } } })).toHaveLength(1);
  });

  it('says when the file cannot be read or parsed', () => {
    expect(() => loadConfig({ BACKLINE_CONFIG: '/nonexistent/backline.json' })).toThrow(
      /BACKLINE_CONFIG: cannot read/,
    );
    expect(() => loadConfig({ BACKLINE_CONFIG: fileWith('{ nope') })).toThrow(
      /BACKLINE_CONFIG: .* is not valid/,
    );
  });
});
