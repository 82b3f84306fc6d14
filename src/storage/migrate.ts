import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouse } from './clickhouse.js';

/** The schema folder at the repository top level. */
export const migrationsDir = fileURLToPath(new URL('../../clickhouse/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** Reads `NNN_name.sql` files in version order; statements end with `;` at a line end. */
export function readMigrations(dir: string = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n');
      return {
        version: Number(file.split('_')[0]),
        name: file.replace(/\.sql$/, ''),
        statements: sql
          .split(/;\s*$/m)
          .map((statement) => statement.trim())
          .filter(Boolean),
      };
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order. Statements are
 * idempotent (`IF NOT EXISTS`), so a crash between a statement and its record is harmless.
 * Returns the names applied now.
 */
export async function migrate(ch: ClickHouse, migrations = readMigrations()): Promise<string[]> {
  await ch.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations
     (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = MergeTree ORDER BY version`,
  );
  const rows = await ch.query<{ version: number }>('SELECT version FROM schema_migrations');
  const applied = new Set(rows.map((row) => Number(row.version)));
  const done: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements) await ch.exec(statement);
    await ch.insert('schema_migrations', [{ version: migration.version, name: migration.name }]);
    done.push(migration.name);
  }
  return done;
}

/**
 * Sets the raw events TTL, and the same on the per-day rows of `actor_days` (its all-time rows
 * stay: a person's first event is still when they were first seen); skipped where a table
 * already has it.
 */
export async function applyRetention(ch: ClickHouse, retentionDays: number): Promise<void> {
  const days = Math.floor(retentionDays);
  const ttls = {
    events: `toDateTime(ts) + toIntervalDay(${days})`,
    actor_days: `day + toIntervalDay(${days}) WHERE day > toDate(0)`,
  };
  for (const [name, ttl] of Object.entries(ttls)) {
    const [table] = await ch.query<{ engine_full: string }>(
      'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {name:String}',
      { name },
    );
    if (!table || table.engine_full.includes(`TTL ${ttl}`)) continue;
    await ch.exec(
      `ALTER TABLE ${name} MODIFY TTL ${ttl} SETTINGS materialize_ttl_after_modify = 0`,
    );
  }
}
