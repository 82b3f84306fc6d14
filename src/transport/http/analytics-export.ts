import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { WarehouseJobs } from '../../analytics/warehouse-jobs.js';
import type { EventExport, ExportFormat } from '../../storage/analytics/event-export.js';
import type { Reply } from './reply.js';
import { createRoutes, type RouteDeps } from './route.js';
import { parseTimeRange } from './time-range.js';

export const defaultExportOptions = {
  maxConcurrent: 2, // exports streaming at once on this node; more are refused EXPORT_BUSY
  retryAfterMs: 5000, // the hint given with EXPORT_BUSY (ms)
};

const formats: Record<string, { engine: ExportFormat; contentType: string }> = {
  csv: { engine: 'CSVWithNames', contentType: 'text/csv; charset=utf-8' },
  parquet: { engine: 'Parquet', contentType: 'application/vnd.apache.parquet' },
};

/**
 * `GET /v1/export/events?from&to&format=csv|parquet` (users:read: raw events name their
 * users, and a `read` key may sit in a dashboard page): the key's project's raw events
 * with `ts` in [from, to) (default the last 24 h), streamed from ClickHouse as they are
 * produced, at the pace the client reads (see stream-body.ts). A ClickHouse failure before
 * the first byte is answered with its error; after it the connection is closed, so a cut
 * export never looks whole (CSV has no end marker; Parquet's footer is missing). `GET
 * /v1/jobs/:name/rows?format` (users:read) streams a warehouse job's table the same way.
 */
export function registerHttpExport(
  app: TemplatedApp,
  deps: RouteDeps & { exports: EventExport; jobs: Pick<WarehouseJobs, 'rows'> },
  options: Partial<typeof defaultExportOptions> = {},
): void {
  const { exports, metrics, log } = deps;
  const opts = { ...defaultExportOptions, ...options };
  const route = createRoutes(app, deps);
  let running = 0;

  /** One export at most `maxConcurrent` at once on this node, counted by format and outcome. */
  async function streamOut(
    reply: Reply,
    query: URLSearchParams,
    file: string,
    open: (format: ExportFormat) => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>,
  ) {
    const name = query.get('format') || 'csv';
    const format = Object.hasOwn(formats, name) ? formats[name]! : undefined;
    if (!format) throw new BacklineError('BAD_QUERY', '`format` is csv or parquet');
    if (!exports.available) throw new BacklineError('EXPORT_UNAVAILABLE');
    if (running >= opts.maxConcurrent) {
      metrics.exportsEnded.inc({ format: name, outcome: 'busy' });
      throw new BacklineError('EXPORT_BUSY', undefined, { retryAfterMs: opts.retryAfterMs });
    }
    running += 1;
    try {
      const chunks = await open(format.engine);
      const headers = { 'content-disposition': `attachment; filename="${file}.${name}"` };
      const ended = await reply.pipe(200, format.contentType, chunks, headers).catch((err) => {
        metrics.exportsEnded.inc({ format: name, outcome: 'failed' });
        throw err;
      });
      metrics.exportBytes.inc({ format: name }, ended.bytes);
      metrics.exportsEnded.inc({ format: name, outcome: ended.outcome });
      if (ended.error) log.warn({ err: ended.error, bytes: ended.bytes }, 'export cut short');
    } finally {
      running -= 1;
    }
  }

  // Bulk copies of user data leave the server here: each is audited, as the user export is.
  route('get', '/v1/export/events', 'users:read', async ({ reply, principal, info, audit }) => {
    audit.always = true;
    const { from, to } = parseTimeRange(info.query, { spanMs: 24 * 3600_000 });
    const project = principal.projectId;
    await streamOut(reply, info.query, `events-${project}-${from}-${to}`, (format) =>
      exports.chunks(project, from, to, format),
    );
  });

  // A warehouse job's last completed run: its rows name persons, as raw events do.
  route(
    'get',
    '/v1/jobs/:name/rows',
    'users:read',
    async ({ reply, principal, name, info, audit }) => {
      audit.always = true;
      const project = principal.projectId;
      await streamOut(reply, info.query, `${name}-${project}`, (format) =>
        deps.jobs.rows(project, name, format),
      );
    },
  );
}
