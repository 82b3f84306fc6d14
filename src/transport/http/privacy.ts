import type { TemplatedApp } from 'uWebSockets.js';
import type { UserErasure } from '../../privacy/user-erasure.js';
import type { UserExport } from '../../privacy/user-export.js';
import type { IdentityDeps } from '../identity.js';
import { userAccess } from '../user/user-access.js';
import { createRoutes, type RouteDeps } from './route.js';

// Items are written in chunks of about this many bytes: one write per item costs a syscall
// each, and a chunk this size still lets back-pressure act within a few chunks.
const chunkBytes = 64 * 1024;

export interface HttpPrivacyDeps extends RouteDeps, IdentityDeps {
  erasure: Pick<UserErasure, 'erase'>;
  /** Opens one user's data for export (privacy/user-export.ts). */
  exportUser(project: string, userId: string): Promise<UserExport>;
}

/**
 * GDPR over HTTP: `DELETE /v1/users/:id` (admin key) erases the user everywhere and answers
 * what each step removed, or 503 `ERASE_INCOMPLETE` when it stopped part way (it resumes on
 * its own; calling again waits for it); `GET /v1/users/:id/export` (admin key or the user's
 * own token) streams every item of the user as NDJSON: a first line
 * `{kind: "export", counts, items}` and the `X-Export-Items` header give the size up front,
 * then one `{kind, item}` per line, written as the client reads. Both are audited.
 *
 * @example
 * registerHttpPrivacy(app, { erasure, exportUser, tokens, auth, metrics, log, rateLimits, audit });
 */
export function registerHttpPrivacy(app: TemplatedApp, deps: HttpPrivacyDeps): void {
  const { erasure, metrics } = deps;
  const route = createRoutes(app, deps, { access: userAccess(deps) });

  route('del', '/v1/users/:id', 'admin', async ({ reply, project, userId }) => {
    reply.json(200, { erased: await erasure.erase(project, userId) });
  });

  route('get', '/v1/users/:id/export', 'self-or-admin', async (request) => {
    const { reply, project, userId, audit } = request;
    audit.always = true;
    const data = await deps.exportUser(project, userId);
    const out = reply.stream(200, 'application/x-ndjson', {
      'x-export-items': String(data.total),
      'content-disposition': 'attachment; filename="export.ndjson"',
    });
    const head = { kind: 'export', project, userId, at: Date.now(), counts: data.counts };
    let chunk = `${JSON.stringify({ ...head, items: data.total })}\n`;
    try {
      for await (const { kind, item } of data.items()) {
        chunk += `${JSON.stringify({ kind, item })}\n`;
        metrics.exportedItems.inc({ kind });
        if (chunk.length < chunkBytes) continue;
        if (!(await out.write(chunk))) return;
        chunk = '';
      }
      if (await out.write(chunk)) out.end();
    } catch (err) {
      out.cut();
      throw err;
    }
  });
}
