import type { NotificationIntent } from '../notify/notification.js';
import type { Firing } from './firing.js';
import { render, renderValue, type Context } from './render.js';
import type { RuleSpec } from './rule-spec.js';
import { pickVariant } from '../notify/variants.js';

/** What one send of a notification starts from: a rule's firing or a campaign. */
export interface IntentSource {
  project: string;
  /** The rule's name, or a campaign's scope (`campaign:<id>`): variants are picked per scope. */
  scope: string;
  notification: RuleSpec['notification'];
  context: Context;
  /** Without a `dedupKey` template, the key every recipient's intent carries. */
  defaultDedupKey: string;
}

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
  return intentFor(
    {
      project: firing.project,
      scope: rule.name,
      notification: rule.notification,
      context: firing.context,
      defaultDedupKey: `${rule.name}/${firing.id}`,
    },
    userId,
  );
}

/** The intent for one recipient of `source`, rendered over its context and the recipient. */
export function intentFor(source: IntentSource, userId: string): NotificationIntent {
  const spec = source.notification;
  const context = { ...source.context, userId };
  const data = renderValue(spec.data, context) as Record<string, unknown>;
  return {
    project: source.project,
    userId,
    rule: source.scope,
    category: spec.category,
    title: render(spec.title, context),
    body: render(spec.body, context),
    data,
    priority: spec.priority,
    dedupKey: spec.dedupKey !== undefined ? render(spec.dedupKey, context) : source.defaultDedupKey,
    channels: [...spec.channels],
    template: spec.variants
      ? pickVariant(spec.variants, source.scope, userId).template
      : spec.template,
    // Channels that render their own template (email) get the whole context, data on top.
    variables: { ...context, ...data },
  };
}
