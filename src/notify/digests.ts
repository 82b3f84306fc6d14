import { createSealedRecords } from '../state/sealed-records.js';
import { plainSealer, type Sealer } from '../state/sealer.js';
import { part, sortableTime, type StateStore } from '../state/state-store.js';
import type { Timers } from '../state/timers.js';
import { channelNames, type Notification, type NotificationIntent } from './notification.js';
import type { Preferences } from './preferences.js';
import { localMinutes } from './quiet-hours.js';

/**
 * Digests: low-priority notifications are kept per user (`digest/<project>/<user>/…`) and a
 * timer at the end of the user's period (the next full hour, or local midnight) sends them
 * as one summary notification. Template variables are sealed while they wait.
 */
export function createDigests(
  state: StateStore,
  timers: Timers,
  send: (intent: NotificationIntent) => Promise<unknown>,
  sealer: Sealer = plainSealer,
) {
  const records = createSealedRecords<Notification>(state, sealer, ['variables']);
  timers.on('digest', async (timer) => {
    const { project, userId } = timer.payload as { project: string; userId: string };
    const prefix = `digest/${project}/${part(userId)}/`;
    const entries = await records.list(prefix);
    if (entries.length === 0) return;
    const items = entries.map(([, n]) => n);
    await send({
      project,
      userId,
      rule: 'digest',
      category: 'digest',
      title: `${items.length} update${items.length === 1 ? '' : 's'}`,
      body: items.map((n) => `• ${n.title}`).join('\n'),
      data: {
        items: items.map((n) => ({ id: n.id, category: n.category, title: n.title, ts: n.ts })),
      },
      priority: 'normal',
      dedupKey: undefined,
      channels: [...channelNames],
      template: 'digest',
      variables: { items },
    });
    for (const [key] of entries) await state.del(key);
  });

  return {
    async collect(notification: Notification, preferences: Preferences): Promise<void> {
      const { project, userId } = notification;
      await records.put(
        `digest/${project}/${part(userId)}/${sortableTime(notification.ts)}-${notification.id}`,
        notification,
      );
      const due = periodEnd(notification.ts, preferences);
      await timers.schedule(
        'digest',
        due,
        { project, userId },
        `digest-${project}-${part(userId)}-${due}`,
      );
    },
  };
}

function periodEnd(now: number, preferences: Preferences): number {
  const startOfMinute = now - (now % 60_000);
  if (preferences.digest === 'hourly') return now - (now % 3600_000) + 3600_000;
  return startOfMinute + (1440 - localMinutes(now, preferences.timeZone)) * 60_000;
}
