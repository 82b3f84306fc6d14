import type { TemplatedApp } from 'uWebSockets.js';
import { BacklineError } from '../../errors.js';
import type { EventExport, ExportFormat } from '../../storage/analytics/event-export.js';
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
 * export never looks whole (CSV has no end marker; Parquet's footer is missing).
 */
export function registerHttpExport(
  app: TemplatedApp,
  deps: RouteDeps & { exports: EventExport },
  options: Partial<typeof defaultExportOptions> = {},
): void {
  const { exports, metrics, log } = deps;
  const opts = { ...defaultExportOptions, ...options };
  const route = createRoutes(app, deps);
  let running = 0;

  route('get', '/v1/export/events', 'users:read', async ({ reply, principal, info }) => {
    const { from, to } = parseTimeRange(info.query, { spanMs: 24 * 3600_000 });
    const name = info.query.get('format') || 'csv';
    const format = Object.hasOwn(formats, name) ? formats[name]! : undefined;
    if (!format) throw new BacklineError('BAD_QUERY', '`format` is csv or parquet');
    if (!exports.available) throw new BacklineError('EXPORT_UNAVAILABLE');
    if (running >= opts.maxConcurrent) {
      metrics.exportsEnded.inc({ format: name, outcome: 'busy' });
      throw new BacklineError('EXPORT_BUSY', undefined, { retryAfterMs: opts.retryAfterMs });
    }
    running += 1;
    try {
      const chunks = exports.chunks(principal.projectId, from, to, format.engine);
      const file = `events-${principal.projectId}-${from}-${to}.${name}`;
      const headers = { 'content-disposition': `attachment; filename="${file}"` };
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
  });
}
