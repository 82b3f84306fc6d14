import type { NotificationIntent } from '../notify/notification.js';
import type { Firing } from './firing.js';
import { render, renderValue } from './render.js';
import { pickVariant } from '../notify/variants.js';

/**
 * The intent for one recipient of a firing. Templates see the firing's context with
 * `userId` set to the recipient. Without a `dedupKey` template the key is `<rule>/<firing
 * id>`: a timer handler retried after a partial run routes the same keys again, and the
 * router drops the repeats.
 *
 * @example
 * route(toIntent(firing, 'u42'));
 */
export function toIntent(
  firing: Pick<Firing, 'project' | 'id' | 'context'> & {
    rule: Pick<Firing['rule'], 'name' | 'notification'>;
  },
  userId: string,
): NotificationIntent {
  const { rule } = firing;
  const spec = rule.notification;
  const context = { ...firing.context, userId };
  const data = renderValue(spec.data, context) as Record<string, unknown>;
  return {
    project: firing.project,
    userId,
    rule: rule.name,
    category: spec.category,
    title: render(spec.title, context),
    body: render(spec.body, context),
    data,
    priority: spec.priority,
    dedupKey:
      spec.dedupKey !== undefined ? render(spec.dedupKey, context) : `${rule.name}/${firing.id}`,
    channels: [...spec.channels],
    template: spec.variants
      ? pickVariant(spec.variants, rule.name, userId).template
      : spec.template,
    // Channels that render their own template (email) get the whole context, data on top.
    variables: { ...context, ...data },
  };
}
