import { expect, it } from 'vitest';
import { exampleTemplates } from '../../src/demo/example-templates.js';
import { exampleRules } from '../../src/demo/example-rules.js';
import { segmentSql } from '../../src/storage/segment-query.js';

const rule = (name: string) => exampleRules.find((r) => r.name === name)!;

it('ships the five campaigns, each naming a shipped email template', () => {
  expect(exampleRules.map((r) => r.name)).toEqual([
    'welcome',
    'show_reminder',
    'hot_show',
    'weekly_summary',
    'newsletter',
  ]);
  const shipped = new Set(exampleTemplates.map((t) => t.id));
  for (const r of exampleRules)
    if (r.notification.template !== undefined)
      expect(shipped.has(r.notification.template), r.name).toBe(true);
});

it('sends the weekly summary at low priority, so digest users get it in their summary', () => {
  const { trigger, notification, audience } = rule('weekly_summary');
  expect(trigger).toMatchObject({ kind: 'event', types: ['show.recap'] });
  expect(audience).toMatchObject({ kind: 'followers', entity: 'props.artistId' });
  expect(notification).toMatchObject({ priority: 'low', category: 'summary' });
  expect(exampleTemplates.some((t) => t.id === 'digest')).toBe(true);
});

it('sends the newsletter to the users active in the last 30 days, once per issue', () => {
  const { trigger, audience, notification } = rule('newsletter');
  expect(trigger).toMatchObject({ kind: 'event', types: ['newsletter.publish'] });
  expect(notification).toMatchObject({ category: 'newsletter', template: 'newsletter' });
  if (audience.kind !== 'segment') throw new Error('newsletter is not a segment');
  const now = Date.parse('2026-11-25T00:00:00Z');
  const { sql, params } = segmentSql('dev', audience, now, { after: '', limit: 10 });
  // Any event type counts as activity.
  expect(sql).not.toContain('type IN');
  expect(params).toMatchObject({ project: 'dev', since: now - 30 * 86_400_000 });
  expect(notification.dedupKey).toBe('newsletter/{{props.issue}}');
});
