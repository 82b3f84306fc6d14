import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A batch kept on disk until ClickHouse takes it. */
export interface SpooledBatch<Row> {
  readonly file: string;
  readonly token: string;
  readonly rows: Row[];
}

/**
 * Batches on local disk, one fsynced file each, for when ClickHouse is slow or down.
 * File names sort by creation and carry the row count and the batch's dedup token:
 * `<stamp>-<rows>-<token>.ndjson`. A `.tmp` file is one whose write never finished (a crash
 * mid-write): it was never acknowledged, so opening the spool deletes it.
 *
 * @example
 * const spool = openSpool<EventRow>('./data/spool/events');
 * await spool.write('events-abc-1', rows); // durable once resolved
 */
export function openSpool<Row>(dir: string) {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, { rows: number; bytes: number }>();
  let partialsRemoved = 0;
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.tmp')) {
      unlinkSync(join(dir, name));
      partialsRemoved += 1;
      continue;
    }
    const parsed = parseName(name);
    if (parsed) files.set(name, { rows: parsed.rows, bytes: statSync(join(dir, name)).size });
  }
  let sequence = 0;

  async function remove(file: string): Promise<void> {
    await unlink(join(dir, file));
    files.delete(file);
  }

  const totals = () => {
    let rows = 0;
    let bytes = 0;
    for (const file of files.values()) {
      rows += file.rows;
      bytes += file.bytes;
    }
    return { rows, bytes, files: files.size };
  };

  return {
    totals,
    /** Partial files of an interrupted write found and deleted on opening. */
    partialsRemoved,

    async write(token: string, rows: readonly Row[]): Promise<void> {
      const stamp = `${Date.now()}${String(sequence++ % 1000).padStart(3, '0')}`;
      const name = `${stamp.padStart(16, '0')}-${rows.length}-${token}.ndjson`;
      const body = Buffer.from(rows.map((row) => JSON.stringify(row)).join('\n'));
      const tmp = join(dir, `${name}.tmp`);
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(body);
        await handle.sync();
        await handle.close();
        await rename(tmp, join(dir, name));
      } catch (err) {
        // A disk that filled up mid-write must not keep the partial file's bytes.
        await handle.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      await syncDir(dir);
      files.set(name, { rows: rows.length, bytes: body.length });
    },

    /** The oldest batch, or undefined when the spool is empty. */
    async oldest(): Promise<SpooledBatch<Row> | undefined> {
      const name = [...files.keys()].sort()[0];
      if (!name) return undefined;
      const text = await readFile(join(dir, name), 'utf8');
      const rows = text.length === 0 ? [] : text.split('\n').map((line) => JSON.parse(line) as Row);
      return { file: name, token: parseName(name)!.token, rows };
    },

    /**
     * Rewrites every batch through `map` (undefined drops a row): for an erase, so that rows
     * of an erased user still waiting here never reach ClickHouse. A file is replaced whole
     * (written, fsynced, renamed over the old one) and keeps its name and token (the row
     * count in the name, read only for the spool gauges after a restart, stays the original);
     * one left empty is removed. Answers the rows dropped or changed. The caller keeps replays
     * out meanwhile (see SpoolReplay.exclusive).
     */
    async rewrite(map: (row: Row) => Row | undefined): Promise<number> {
      let changed = 0;
      for (const name of [...files.keys()].sort()) {
        const text = await readFile(join(dir, name), 'utf8');
        const lines = text.length === 0 ? [] : text.split('\n');
        const kept: string[] = [];
        for (const line of lines) {
          const row = JSON.parse(line) as Row;
          const next = map(row);
          if (next !== row) changed += 1;
          if (next !== undefined) kept.push(next === row ? line : JSON.stringify(next));
        }
        if (kept.length === lines.length && kept.every((line, i) => line === lines[i])) continue;
        if (kept.length === 0) {
          await remove(name);
          continue;
        }
        const body = Buffer.from(kept.join('\n'));
        await replaceFile(dir, name, body);
        files.set(name, { rows: kept.length, bytes: body.length });
      }
      return changed;
    },

    remove,
  };
}

export type Spool<Row> = ReturnType<typeof openSpool<Row>>;

function parseName(name: string): { rows: number; token: string } | undefined {
  const match = /^\d+-(\d+)-([\w-]+)\.ndjson$/.exec(name);
  return match ? { rows: Number(match[1]), token: match[2]! } : undefined;
}

/** Replaces `name` with `body` atomically: a crash leaves the old file or the new one. */
async function replaceFile(dir: string, name: string, body: Buffer): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

/** A rename is durable only once its directory is fsynced. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
