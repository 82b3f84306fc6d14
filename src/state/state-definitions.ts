import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { DefinitionStore } from './definition-store.js';
import { parseDefinition } from './saved-definitions.js';
import { part, type StateStore } from './state-store.js';

/** What is saved per definition: a deletion is kept too, since configuration would bring it back. */
type Saved<T> = { spec: T } | { deleted: true };

export interface StateDefinitionOptions<T> {
  /** `stream` or `rule`: the key space, `definition/<kind>/<project>/<name>`. */
  kind: string;
  schema: z.ZodType<T>;
  badCode: ErrorCode;
  /** Tells the other nodes, once a change is saved (`DefinitionSync.announce`). */
  announce?: (project: string, name: string) => void;
}

const pageSize = 500;

/**
 * Definitions made through the admin API, kept in the shared StateStore (Redis in cluster
 * mode) so every node runs the same streams and rules. Every saved definition is loaded at
 * open; `reload` reads one again when another node announced a change to it. A stored
 * definition that no longer validates (an older version's) counts as nothing saved, with a
 * warning through `onInvalid`, rather than stopping every node.
 *
 * @example
 * const rules = await openStateDefinitions(state, { kind: 'rule', schema: ruleSpecSchema,
 *   badCode: 'BAD_RULE', announce: (project, name) => sync.announce('rule', project, name) });
 */
export async function openStateDefinitions<T extends { name: string }>(
  state: StateStore,
  options: StateDefinitionOptions<T>,
  onInvalid: (key: string, err: unknown) => void = () => undefined,
): Promise<
  DefinitionStore<T> & {
    defined(p: string, s: T): Promise<void>;
    /** Which definitions are saved now, deletions included (for a node catching up). */
    saved(): Promise<Array<{ project: string; name: string }>>;
  }
> {
  const { kind, schema, badCode } = options;
  const prefix = `definition/${kind}/`;
  const keyOf = (project: string, name: string) => `${prefix}${part(project)}/${part(name)}`;
  const overrides = new Map<string, Map<string, T | null>>();
  const remember = (project: string, name: string, value: T | null | undefined) => {
    let own = overrides.get(project);
    if (!own) overrides.set(project, (own = new Map()));
    if (value === undefined) own.delete(name);
    else own.set(name, value);
  };
  const decode = (key: string, saved: Saved<T> | undefined): T | null | undefined => {
    if (saved === undefined) return undefined;
    if ('deleted' in saved) return null;
    const parsed = schema.safeParse(saved.spec);
    if (parsed.success) return parsed.data;
    onInvalid(key, parsed.error);
    return undefined;
  };
  const save = async (project: string, name: string, saved: Saved<T>, value: T | null) => {
    await state.put(keyOf(project, name), saved);
    remember(project, name, value);
    options.announce?.(project, name);
  };

  /** Every saved entry, deletions included, a page at a time. */
  async function* entries() {
    for (let after: string | undefined; ;) {
      const page = await state.list<Saved<T>>(prefix, {
        limit: pageSize,
        ...(after ? { after } : {}),
      });
      for (const [key, saved] of page) {
        const [project, name] = key.slice(prefix.length).split('/').map(decodeURIComponent);
        yield { key, project: project!, name: name!, saved };
      }
      if (page.length < pageSize) return;
      after = page[page.length - 1]![0];
    }
  }

  for await (const { key, project, name, saved } of entries())
    remember(project, name, decode(key, saved));

  return {
    specsFor(project, configured) {
      const own = overrides.get(project) ?? new Map<string, T | null>();
      const specs = configured.filter((spec) => !own.has(spec.name));
      for (const spec of own.values()) if (spec) specs.push(spec);
      return specs;
    },
    parse: (name, raw) => parseDefinition(schema, badCode, name, raw),
    defined: (project, spec) => save(project, spec.name, { spec }, spec),
    removed: (project, name) => save(project, name, { deleted: true }, null),
    async saved() {
      const found: Array<{ project: string; name: string }> = [];
      for await (const { project, name } of entries()) found.push({ project, name });
      return found;
    },
    async reload(project, name) {
      const key = keyOf(project, name);
      const value = decode(key, await state.get<Saved<T>>(key));
      remember(project, name, value);
      return value;
    },
  };
}
