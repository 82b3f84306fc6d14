import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Session } from 'chdb';

/**
 * Streamed results from chdb 3.4, whose stream formats each block on its own: a
 * `CSVWithNames` chunk repeats the header and a `Parquet` chunk is a whole file, so the
 * chunks cannot simply be concatenated. CSV keeps the first header only; Parquet is written
 * by the engine to a file (`INTO OUTFILE`, row groups of 65,536 rows, appended and never
 * rewritten) that is read back as it grows: memory stays at a row group, the result lives
 * on disk until it is sent.
 */

export const defaultChdbStreamOptions = {
  blockRows: 8192, // rows per block: about 0.7 MB of CSV per chunk (measured)
  parquetRowGroupRows: 65_536, // rows the Parquet writer holds before it writes a row group
  readBytes: 1 << 20, // bytes read from the growing file per chunk
  pollMs: 50, // how often the growing file is looked at while nothing new is in it
};

type Options = typeof defaultChdbStreamOptions;

/** CSV with its header once: the header line of the first chunk, cut from the others. */
export async function* csvChunks(
  session: Session,
  sql: string,
  params: Record<string, unknown>,
  options: Options = defaultChdbStreamOptions,
): AsyncGenerator<Uint8Array> {
  const query = `${sql} SETTINGS max_block_size = ${options.blockRows}`;
  let header: Buffer | undefined;
  for await (const chunk of session.queryStreamBind(query, params, { format: 'CSVWithNames' })) {
    const bytes = Buffer.from(chunk.raw());
    if (!header) {
      header = bytes.subarray(0, bytes.indexOf(0x0a) + 1);
      yield bytes;
    } else
      yield bytes.subarray(bytes.subarray(0, header.length).equals(header) ? header.length : 0);
  }
}

/** Removes files a crash left in the exports folder, and makes sure it exists. */
export function prepareExportDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(dir)) rmSync(join(dir, file), { force: true });
}

/** Parquet written by the engine into `dir`, read as it grows, removed once done. */
export async function* parquetChunks(
  session: Session,
  sql: string,
  params: Record<string, unknown>,
  dir: string,
  options: Options = defaultChdbStreamOptions,
): AsyncGenerator<Uint8Array> {
  const file = join(dir, `${randomUUID()}.parquet`);
  const literal = `'${file.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const query = `${sql} INTO OUTFILE ${literal} FORMAT Parquet SETTINGS max_block_size = ${options.blockRows}, output_format_parquet_row_group_size = ${options.parquetRowGroupRows}`;
  let finished = false;
  const written = session.queryBindAsync(query, params, { format: 'CSV' }).finally(() => {
    finished = true;
  });
  written.catch(() => undefined); // awaited below; a reader that stops early never sees it
  try {
    let offset = 0;
    for (;;) {
      const done = finished;
      const size = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      if (size > offset) {
        const bytes = await readAt(file, offset, Math.min(size - offset, options.readBytes));
        offset += bytes.length;
        yield bytes;
      } else if (done) {
        await written; // a failed query throws here
        return;
      } else await Promise.race([sleep(options.pollMs), written.catch(() => undefined)]);
    }
  } finally {
    // The engine cannot be interrupted: the file goes once the query ends.
    void written.catch(() => undefined).finally(() => rmSync(file, { force: true }));
  }
}

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
