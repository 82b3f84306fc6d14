import { publishOn, subscribeTo } from '../cluster/bus-channels.js';
import type { Bus } from '../cluster/bus.js';
import type { ProjectConfig } from '../config/schema.js';
import { BacklineError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { StateStore } from '../state/state-store.js';
import { generateApiKey, generateKeyId, hashKey, keyIdPattern } from './api-key.js';
import {
  asKeyRecord,
  keyRecordKey,
  keysPrefix,
  listed,
  newKeySchema,
  type ApiKeyRecord,
  type KeyRecord,
  type ListedKey,
} from './key-records.js';
import { createKeyIndex, recordId } from './key-index.js';
import { configuredKeys } from './key-registry.js';

export const defaultKeyStoreOptions = {
  reloadEveryMs: 60_000, // every key is read again this often: a change whose bus message was lost is picked up
  maxKeysPerProject: 1000, // keys made through the API per project; past it POST /v1/keys is refused
};

export interface KeyStoreDeps {
  projects: ReadonlyArray<Pick<ProjectConfig, 'id' | 'keys'>>;
  /** Where the records live: LMDB on one node, Redis in a cluster, so every node reads them. */
  state: StateStore;
  /** Channel `keys`: a change is read again by every node at once. */
  bus: Bus;
  metrics: Pick<Metrics, 'keySyncFailures'>;
  log: Pick<Logger, 'warn'>;
  now?: () => number;
}

/**
 * Every project key, configured or made through the API, hashed: `authenticate` answers from
 * memory (SHA-256 of the presented key, one map lookup). Made and revoked keys are kept in
 * the StateStore and announced on the bus channel `keys`; each node reads the changed record
 * again, so a revocation holds on every node at once, and everything is read again every
 * `reloadEveryMs` in case an announcement was lost. Changes and reads run one at a time, so
 * a reload cannot bring back a key revoked meanwhile.
 *
 * @example
 * const keys = createKeyStore({ projects, state, bus, metrics, log });
 * await keys.start();
 * const { key } = await keys.create('shop', { name: 'ci', scopes: ['ingest'] }); // shown once
 * keys.authenticate(key)?.projectId; // 'shop'
 */
export function createKeyStore(
  deps: KeyStoreDeps,
  options: Partial<typeof defaultKeyStoreOptions> = {},
) {
  const opts = { ...defaultKeyStoreOptions, ...options };
  const { state, bus, metrics, log } = deps;
  const now = deps.now ?? Date.now;
  const configured = [...configuredKeys(deps.projects).values()];
  const index = createKeyIndex(configured, now);
  let records = new Map<string, KeyRecord>();
  let turn: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let off: (() => void) | undefined;

  const inTurn = <T>(task: () => Promise<T>): Promise<T> => {
    const done = turn.then(task);
    turn = done.catch(() => undefined);
    return done;
  };

  function apply(project: string, id: string, record: KeyRecord | undefined): void {
    if (record) records.set(recordId(project, id), record);
    else records.delete(recordId(project, id));
    index.rebuild(records);
  }

  const reload = () =>
    inTurn(async () => {
      const next = new Map<string, KeyRecord>();
      for (const [, value] of await state.list('keys/')) {
        const record = asKeyRecord(value);
        if (record) next.set(recordId(record.project, record.id), record);
      }
      records = next;
      index.rebuild(records);
    });

  /** A change another node (or this one) announced: its record as the store has it now. */
  const refresh = (project: string, id: string) =>
    inTurn(async () => apply(project, id, asKeyRecord(await state.get(keyRecordKey(project, id)))));

  const failed = (reason: 'reload' | 'announce') => (err: unknown) => {
    metrics.keySyncFailures.inc({ reason });
    log.warn({ err, reason }, 'API keys not brought up to date');
  };

  const announce = (project: string, id: string) => publishOn(bus, 'keys', { project, id });

  async function create(project: string, raw: unknown): Promise<ListedKey & { key: string }> {
    const parsed = newKeySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new BacklineError(
        'BAD_KEY_SPEC',
        `${issue.path.join('.') || '(body)'}: ${issue.message}`,
      );
    }
    const { name, scopes, expiresAt } = parsed.data;
    if (expiresAt !== undefined && expiresAt <= now())
      throw new BacklineError('BAD_KEY_SPEC', 'expiresAt: must be in the future (epoch ms)');
    const key = generateApiKey();
    const record: ApiKeyRecord = {
      ...{ kind: 'api', project, id: generateKeyId(), name, scopes, hash: hashKey(key) },
      ...{ createdAt: now(), expiresAt: expiresAt ?? null },
    };
    await inTurn(async () => {
      const own = [...records.values()].filter((r) => r.kind === 'api' && r.project === project);
      if (own.length >= opts.maxKeysPerProject)
        throw new BacklineError(
          'BAD_KEY_SPEC',
          `at most ${opts.maxKeysPerProject} keys per project`,
        );
      await state.put(keyRecordKey(project, record.id), record);
      apply(project, record.id, record);
    });
    announce(project, record.id);
    return { ...listed(record), key };
  }

  /** Revokes a key of `project` at once; false when the project has no such key. */
  async function revoke(project: string, id: string): Promise<boolean> {
    if (!keyIdPattern.test(id)) return false;
    const done = await inTurn(async () => {
      const stored = asKeyRecord(await state.get(keyRecordKey(project, id)));
      if (stored?.kind === 'api') {
        await state.del(keyRecordKey(project, id));
        apply(project, id, undefined);
        return true;
      }
      const isConfigured = configured.some(
        ({ principal: p }) => p.projectId === project && p.keyId === id,
      );
      if (stored || !isConfigured) return false;
      const tombstone: KeyRecord = { kind: 'revoked', project, id, revokedAt: now() };
      await state.put(keyRecordKey(project, id), tombstone);
      apply(project, id, tombstone);
      return true;
    });
    if (done) announce(project, id);
    return done;
  }

  /** The project's keys without their secrets: configured ones first, then by creation. */
  async function list(project: string): Promise<ListedKey[]> {
    const stored = (await state.list(keysPrefix(project)))
      .map(([, value]) => asKeyRecord(value))
      .filter((record) => record !== undefined);
    const revoked = new Set(stored.filter((r) => r.kind === 'revoked').map((r) => r.id));
    const fromConfig: ListedKey[] = configured
      .filter(({ principal: p }) => p.projectId === project && !revoked.has(p.keyId))
      .map(({ name, principal: p }) => ({
        ...{ id: p.keyId, name: name ?? null, scopes: [...p.scopes], source: 'config' as const },
        ...{ createdAt: null, expiresAt: null },
      }));
    const made = stored
      .filter((r) => r.kind === 'api')
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(listed);
    return [...fromConfig, ...made];
  }

  index.rebuild(records);
  return {
    authenticate: index.authenticate,
    onRevoked: index.onRevoked,
    create,
    revoke,
    list,
    name: 'keys',
    async start() {
      // Subscribed before the first read: a key made meanwhile on another node is not missed.
      off = subscribeTo(bus, 'keys', ({ project, id }) => {
        refresh(project, id).catch(failed('announce'));
      });
      await bus.subscribed?.();
      await reload();
      timer = setInterval(() => reload().catch(failed('reload')), opts.reloadEveryMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      off?.();
      await turn;
    },
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;
