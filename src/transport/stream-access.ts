import { can } from '../auth/key-registry.js';
import { BacklineError } from '../errors.js';
import type { StreamAccess } from '../pipeline/stream-spec.js';
import type { Credentials } from './credentials.js';
import { identify, type IdentityDeps } from './identity.js';
import { userCaller, type Caller } from './rate-limits.js';

/**
 * Who reads a project's streams, and which: a project key with `read` reads every stream,
 * a user of the project those open to `users` or `public`, nobody (no credential) the
 * `public` ones of the project `?project=` names.
 */
export interface StreamViewer {
  projectId: string;
  kind: 'key' | 'user' | 'anonymous';
  caller: Caller;
}

/** The streams each kind of viewer may read. */
const readable: Record<StreamViewer['kind'], ReadonlySet<StreamAccess>> = {
  key: new Set(['private', 'users', 'public']),
  user: new Set(['users', 'public']),
  anonymous: new Set(['public']),
};

/**
 * The viewer the credentials speak for; throws UNAUTHORIZED (no credential and no
 * `?project=`, or an unknown key), FORBIDDEN (a key without `read`), BAD_TOKEN.
 */
export async function streamViewer(
  deps: IdentityDeps,
  credentials: Credentials,
): Promise<StreamViewer> {
  const who = await identify(deps, credentials);
  if (who.kind === 'key') {
    const { principal } = who;
    if (!can(principal, 'read')) throw new BacklineError('FORBIDDEN', 'this key lacks read');
    return {
      projectId: principal.projectId,
      kind: 'key',
      caller: { limit: 'key', id: principal.keyId },
    };
  }
  if (who.kind === 'user') {
    const { projectId, userId } = who.user;
    return { projectId, kind: 'user', caller: userCaller(projectId, userId) };
  }
  const project = credentials.query.get('project');
  if (!project)
    throw new BacklineError('UNAUTHORIZED', 'a key, a user token, or ?project= for public streams');
  return {
    projectId: project,
    kind: 'anonymous',
    caller: { limit: 'anonymous', id: credentials.remoteAddress },
  };
}

/**
 * Throws unless the viewer may read the stream (`undefined`: none of that name). Nobody
 * gets 401 UNAUTHORIZED for a stream that is not public, whether it exists or not, so a
 * page cannot list a project's private streams; a user gets 404 UNKNOWN_STREAM or 403
 * FORBIDDEN.
 */
export function checkStreamRead(
  viewer: StreamViewer,
  stream: { access: StreamAccess } | undefined,
): void {
  if (stream && readable[viewer.kind].has(stream.access)) return;
  if (viewer.kind === 'anonymous')
    throw new BacklineError('UNAUTHORIZED', 'no public stream of that name in this project');
  if (!stream) throw new BacklineError('UNKNOWN_STREAM');
  throw new BacklineError('FORBIDDEN', `this stream is ${stream.access}`);
}
