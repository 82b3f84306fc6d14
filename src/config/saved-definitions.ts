import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { BacklineError, type ErrorCode } from '../errors.js';

/**
 * Definitions (streams, rules) made through the admin API on top of the configuration file,
 * kept per project in a JSON file under the data folder: a definition, or null for one from
 * configuration that was deleted. Written to a temporary file and renamed, so a crash leaves
 * the old or the new file whole.
 *
 * @example
 * const saved = openSavedDefinitions(join(dataDir, 'rules.json'), ruleSpecSchema, 'BAD_RULE');
 * for (const spec of saved.specsFor('dev', configured)) rules.define('dev', spec);
 */
export function openSavedDefinitions<T extends { name: string }>(
  file: string,
  schema: z.ZodType<T>,
  badCode: ErrorCode,
) {
  const overrides = read(file, schema);
  const save = () => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(overrides, null, 2));
    renameSync(`${file}.tmp`, file);
  };

  return {
    /** Configuration with the saved changes applied. */
    specsFor(project: string, configured: readonly T[]): T[] {
      const own = overrides[project] ?? {};
      const specs = configured.filter((spec) => !(spec.name in own));
      for (const spec of Object.values(own)) if (spec) specs.push(spec);
      return specs;
    },
    /** Validates `raw` (a definition without its name); the error code names the bad part. */
    parse(name: string, raw: unknown): T {
      const parsed = schema.safeParse({ ...(raw as object), name });
      if (parsed.success) return parsed.data;
      throw new BacklineError(
        badCode,
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    },
    defined(project: string, spec: T): void {
      (overrides[project] ??= {})[spec.name] = spec;
      save();
    },
    removed(project: string, name: string): void {
      (overrides[project] ??= {})[name] = null;
      save();
    },
  };
}

function read<T>(file: string, schema: z.ZodType<T>): Record<string, Record<string, T | null>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const raw = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const overrides: Record<string, Record<string, T | null>> = {};
  for (const [project, specs] of Object.entries(raw)) {
    overrides[project] = {};
    for (const [name, spec] of Object.entries(specs))
      overrides[project]![name] = spec === null ? null : schema.parse(spec);
  }
  return overrides;
}
