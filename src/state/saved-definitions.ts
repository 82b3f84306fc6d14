import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { BacklineError, type ErrorCode } from '../errors.js';
import { StartError } from '../ops/start-error.js';
import type { DefinitionStore } from './definition-store.js';

/** Per project, per name: a definition, or null for one from configuration that was deleted. */
type Overrides<T> = Map<string, Map<string, T | null>>;

/**
 * Definitions (streams, rules) made through the admin API on top of the configuration file,
 * kept per project in a JSON file under the data folder: a definition, or null for one from
 * configuration that was deleted. Written to a temporary file and renamed, so a crash leaves
 * the old or the new file whole. Names are user-given (`constructor` is a valid one), so
 * they live in Maps, never as keys looked up on plain objects.
 *
 * Only a missing file means "nothing saved". A file that cannot be read or does not parse
 * stops the start (StartError): writing the next definition would erase every saved one.
 *
 * @example
 * const saved = openSavedDefinitions(join(dataDir, 'rules.json'), ruleSpecSchema, 'BAD_RULE');
 * for (const spec of saved.specsFor('dev', configured)) rules.define('dev', spec);
 */
export function openSavedDefinitions<T extends { name: string }>(
  file: string,
  schema: z.ZodType<T>,
  badCode: ErrorCode,
): DefinitionStore<T> & {
  defined(project: string, spec: T): void;
  removed(project: string, name: string): void;
} {
  const overrides = read(file, schema);
  const save = () => {
    const json = Object.fromEntries(
      [...overrides].map(([project, specs]) => [project, Object.fromEntries(specs)]),
    );
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(json, null, 2));
    renameSync(`${file}.tmp`, file);
  };
  const projectOf = (project: string) => {
    let specs = overrides.get(project);
    if (!specs) overrides.set(project, (specs = new Map()));
    return specs;
  };

  return {
    /** Configuration with the saved changes applied. */
    specsFor(project: string, configured: readonly T[]): T[] {
      const own = overrides.get(project) ?? new Map<string, T | null>();
      const specs = configured.filter((spec) => !own.has(spec.name));
      for (const spec of own.values()) if (spec) specs.push(spec);
      return specs;
    },
    /** Validates `raw` (a definition without its name); the error code names the bad part. */
    parse: (name: string, raw: unknown): T => parseDefinition(schema, badCode, name, raw),
    defined(project: string, spec: T): void {
      projectOf(project).set(spec.name, spec);
      save();
    },
    removed(project: string, name: string): void {
      projectOf(project).set(name, null);
      save();
    },
    // This process is the file's only writer: what it holds is what is saved.
    reload: async (project: string, name: string) => overrides.get(project)?.get(name),
  };
}

/** A definition from the admin API, named by its path; `badCode` when it does not validate. */
export function parseDefinition<T>(
  schema: z.ZodType<T>,
  badCode: ErrorCode,
  name: string,
  raw: unknown,
): T {
  const parsed = schema.safeParse({ ...(raw as object), name });
  if (parsed.success) return parsed.data;
  throw new BacklineError(badCode, describeIssues(parsed.error));
}

function read<T extends { name: string }>(file: string, schema: z.ZodType<T>): Overrides<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw refuse(file, (err as NodeJS.ErrnoException).code ?? (err as Error).message, err);
  }
  try {
    return parseOverrides(JSON.parse(text), schema);
  } catch (err) {
    throw refuse(file, (err as Error).message, err);
  }
}

function parseOverrides<T extends { name: string }>(
  raw: unknown,
  schema: z.ZodType<T>,
): Overrides<T> {
  const overrides: Overrides<T> = new Map();
  for (const [project, specs] of entriesOf(raw, 'the top level')) {
    const own = new Map<string, T | null>();
    for (const [name, spec] of entriesOf(specs, `project ${project}`)) {
      if (spec === null) {
        own.set(name, null);
        continue;
      }
      const parsed = schema.safeParse(spec);
      if (!parsed.success) throw new Error(`${project}.${name}: ${describeIssues(parsed.error)}`);
      if (parsed.data.name !== name) throw new Error(`${project}.${name}: its name differs`);
      own.set(name, parsed.data);
    }
    overrides.set(project, own);
  }
  return overrides;
}

function entriesOf(value: unknown, what: string): Array<[string, unknown]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object`);
  return Object.entries(value);
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

function refuse(file: string, problem: string, cause: unknown): StartError {
  return new StartError(
    `the saved definitions in ${file} cannot be read (${problem.replace(/\s+/g, ' ')}): ` +
      'fix the file or move it away; backline will not start and overwrite it',
    { cause },
  );
}
