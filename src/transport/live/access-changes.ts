import type { WebSocket } from 'uWebSockets.js';
import { subscribeTo } from '../../cluster/bus-channels.js';
import type { Bus } from '../../cluster/bus.js';
import { BacklineError } from '../../errors.js';
import { checkStreamRead } from '../stream-access.js';
import type { LiveSocketContext } from './live-context.js';
import type { LiveSocketState } from './live-hub.js';

/**
 * Ends the subscriptions a stream's new definition no longer lets their socket read (a stream
 * made `private` while users follow it): each gets `{t:"error", code, id}` with the code a
 * new `sub` would get, and no further window. Definitions change on the bus channel
 * `definitions`, so every node checks its own sockets. A deleted stream leaves its
 * subscriptions as they were: they simply get nothing more.
 *
 * @example
 * endUnreadableOnChange(bus, ctx, liveSockets);
 */
export function endUnreadableOnChange(
  bus: Bus,
  ctx: Pick<LiveSocketContext, 'catalog' | 'hub' | 'endSubscription'>,
  sockets: ReadonlySet<WebSocket<LiveSocketState>>,
): () => void {
  return subscribeTo(bus, 'definitions', ({ project, kind, name }) => {
    if (kind !== 'stream') return;
    const spec = ctx.catalog.get(project, name);
    if (!spec) return;
    for (const ws of sockets) {
      const state = ws.getUserData();
      if (state.closed || state.viewer.projectId !== project) continue;
      for (const sub of [...state.subs.values()]) {
        if (sub.stream !== name) continue;
        try {
          checkStreamRead(state.viewer, spec);
        } catch (err) {
          const error = err instanceof BacklineError ? err : new BacklineError('INTERNAL');
          ctx.hub.unsubscribe(ws, String(sub.id));
          ctx.endSubscription(ws, error, sub.id);
        }
      }
    }
  });
}
