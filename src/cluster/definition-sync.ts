import { createSerialQueue } from '../lib/serial-queue.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Service } from '../ops/lifecycle.js';
import type { Bus } from './bus.js';

/** What travels on the bus channel `definitions`: which definition changed, not its content. */
export interface DefinitionsMessage {
  project: string;
  kind: DefinitionKind;
  name: string;
}

export type DefinitionKind = 'stream' | 'rule';

/** How this node reads and runs one kind of definition. */
export interface SyncedKind<T extends { name: string }> {
  /** Which definitions the shared store holds now, deletions included. */
  saved(): Promise<Array<{ project: string; name: string }>>;
  /** What the shared store holds now: a definition, null when deleted, undefined when none. */
  reload(project: string, name: string): Promise<T | null | undefined>;
  /** What runs on this node now. */
  current(project: string, name: string): T | undefined;
  /** Runs `spec` here (replacing what ran under its name). */
  define(project: string, spec: T): void | Promise<unknown>;
  remove(project: string, name: string): void | Promise<unknown>;
}

/**
 * Keeps every node's streams and rules as the shared definitions say: a node that saved a
 * change announces it on the bus channel `definitions`; every node (the sender too) reads that
 * definition again and defines or removes it locally when it differs from what runs. Changes
 * to one definition apply one at a time, each from what is saved then, so the nodes end with
 * the last one saved. A node that was down missed announcements: it loads every definition
 * when it opens them, and once subscribed at start it goes over every saved one again, so a
 * change saved in between is not missed either.
 *
 * @example
 * const sync = createDefinitionSync({ bus, kinds: { stream: streamKind, rule: ruleKind }, metrics, log });
 * openStateDefinitions(state, { kind: 'rule', …, announce: (p, n) => sync.announce('rule', p, n) });
 */
export function createDefinitionSync(deps: {
  bus: Bus;
  kinds: Record<DefinitionKind, SyncedKind<{ name: string }>>;
  metrics?: Pick<Metrics, 'definitionSyncs'>;
  log?: Logger;
}) {
  const queue = createSerialQueue();
  let off: (() => void) | undefined;
  const count = (kind: string, outcome: string) =>
    deps.metrics?.definitionSyncs.inc({ kind, outcome });

  async function apply({ project, kind, name }: DefinitionsMessage): Promise<void> {
    const synced = deps.kinds[kind];
    const saved = await synced.reload(project, name);
    const running = synced.current(project, name);
    if (saved === undefined || (saved === null && !running) || sameDefinition(saved, running))
      return void count(kind, 'unchanged');
    if (saved === null) await synced.remove(project, name);
    else await synced.define(project, saved);
    count(kind, saved === null ? 'removed' : 'defined');
  }

  function receive(message: unknown): void {
    if (!isMessage(message)) {
      count('unknown', 'failed');
      deps.log?.warn({ message }, 'definitions message not understood');
      return;
    }
    const { project, kind, name } = message;
    queue
      .push(`${kind}/${project}/${name}`, () => apply(message))
      .catch((err: unknown) => {
        count(kind, 'failed');
        deps.log?.error({ err, project, kind, name }, 'definition change not applied');
      });
  }

  const service: Service = {
    name: 'definition-sync',
    async start() {
      off = deps.bus.subscribe('definitions', receive);
      await deps.bus.subscribed?.();
      const kinds = Object.keys(deps.kinds) as DefinitionKind[];
      const saved = await Promise.all(kinds.map((kind) => deps.kinds[kind].saved()));
      const catchUp = kinds.flatMap((kind, i) =>
        saved[i]!.map(({ project, name }) => ({ project, kind, name })),
      );
      for (const message of catchUp) receive(message);
      await queue.idle();
    },
    async stop() {
      off?.();
      await queue.idle();
    },
  };
  return {
    ...service,
    /** Tells every node that `kind` `name` of `project` changed (after it was saved). */
    announce(kind: DefinitionKind, project: string, name: string): void {
      deps.bus.publish('definitions', { project, kind, name } satisfies DefinitionsMessage);
    },
  };
}

export type DefinitionSync = ReturnType<typeof createDefinitionSync>;

function isMessage(message: unknown): message is DefinitionsMessage {
  const m = message as Partial<DefinitionsMessage> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.project === 'string' &&
    typeof m.name === 'string' &&
    (m.kind === 'stream' || m.kind === 'rule')
  );
}

/** Equal as JSON with sorted keys: a definition read back may order its keys differently. */
function sameDefinition(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([, v]) => v !== undefined)
              .sort(([x], [y]) => (x < y ? -1 : 1))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
