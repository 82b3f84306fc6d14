import { describe, expect, it } from 'vitest';
import { createEmailChannel } from '../../src/notify/channels/email/email.js';
import { exampleTemplates, seedTemplates } from '../../src/demo/example-templates.js';
import type { EmailMessage } from '../../src/notify/channels/email/providers.js';
import { createSendRecords } from '../../src/notify/channels/email/send-records.js';
import { createSuppressions } from '../../src/notify/channels/email/suppressions.js';
import { createEmailTemplates } from '../../src/notify/channels/email/templates.js';
import type { Notification } from '../../src/notify/notification.js';
import { createPreferences } from '../../src/notify/preferences.js';
import { exampleRules } from '../../src/demo/example-rules.js';
import { eventContext } from '../../src/rules/firing.js';
import { toIntent } from '../../src/rules/intent.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { sender } from '../helpers/email-fixtures.js';
import { event } from '../rules/rules-fixtures.js';

const project = 'dev';

describe('seedTemplates', () => {
  it('writes the examples once and keeps what an operator changed since', async () => {
    const templates = createEmailTemplates(createMemoryStateStore());
    const ids = exampleTemplates.map((t) => t.id);
    expect(await seedTemplates(templates, project, exampleTemplates)).toEqual(ids);
    const edited = { subject: 'Hey {{props.name}}', html: '<p>Hey</p>', text: 'Hey' };
    await templates.put(project, 'welcome', 'en', edited);
    expect(await seedTemplates(templates, project, exampleTemplates)).toEqual([]);
    expect(await templates.get(project, 'welcome', 'en')).toEqual(edited);
    await templates.remove(project, 'newsletter', 'en');
    expect(await seedTemplates(templates, project, exampleTemplates)).toEqual(['newsletter']);
    expect(await seedTemplates(templates, 'other', exampleTemplates)).toEqual(ids);
  });
});

// One triggering event per campaign, with the props the demo and clients send.
const triggers: Record<string, ReturnType<typeof event>> = {
  welcome: event('user.signup', { userId: 'fan' }, { name: 'Ada' }),
  show_reminder: event(
    'show.scheduled',
    {},
    { showId: 's1', artistId: 'a1', artistName: 'The Kites', venue: 'Hall 3', startsAt: 1 },
  ),
  weekly_summary: event(
    'show.recap',
    {},
    {
      showId: 's1',
      artistId: 'a1',
      artistName: 'The Kites',
      venue: 'Hall 3',
      summary: 'Three encores & a new song',
      url: 'https://backline.example/recaps/s1',
    },
  ),
  newsletter: event(
    'newsletter.publish',
    {},
    {
      issue: 12,
      subject: 'Festival season',
      teaser: 'Ten shows you should not miss',
      url: 'https://backline.example/news/12',
    },
  ),
};

describe('the example campaigns by email', () => {
  it('renders every example rule’s template with the values of its event', async () => {
    const state = createMemoryStateStore();
    const templates = createEmailTemplates(state);
    const preferences = createPreferences(state);
    await seedTemplates(templates, project, exampleTemplates);
    await preferences.put(project, 'fan', { email: 'fan@example.com' });
    const sent: EmailMessage[] = [];
    const channel = createEmailChannel({
      templates,
      preferences,
      suppressions: createSuppressions(state),
      records: createSendRecords(state),
      provider: {
        name: 'capture',
        send: async (messages) => {
          sent.push(...messages);
          return messages.map(() => ({ status: 'delivered' as const }));
        },
      },
      from: sender,
    });
    for (const rule of exampleRules.filter((r) => r.notification.template !== undefined)) {
      const trigger = triggers[rule.name]!;
      const firing = {
        project,
        rule,
        id: trigger.id,
        userId: 'fan',
        context: eventContext(trigger),
      };
      const n: Notification = { ...toIntent(firing, 'fan'), id: `n-${rule.name}`, ts: Date.now() };
      expect(await channel.send(n), rule.name).toMatchObject({ status: 'delivered' });
    }
    const byTemplate = Object.fromEntries(sent.map((m) => [m.template, m]));
    expect(Object.keys(byTemplate).sort()).toEqual([
      'newsletter',
      'show-reminder',
      'weekly-summary',
      'welcome',
    ]);
    expect(byTemplate.welcome!.subject).toBe('Welcome to backline, Ada');
    expect(byTemplate['show-reminder']!.text).toContain('Doors open at Hall 3.');
    expect(byTemplate['weekly-summary']!.subject).toBe('The Kites at Hall 3: the recap');
    expect(byTemplate['weekly-summary']!.html).toContain('Three encores &amp; a new song');
    expect(byTemplate.newsletter!.html).toContain('href="https://backline.example/news/12"');
    expect(byTemplate.newsletter!.text).toContain(
      'Read issue 12: https://backline.example/news/12',
    );
  });

  it('has a digest template for the router’s summary of low-priority notifications', async () => {
    const templates = createEmailTemplates(createMemoryStateStore());
    await seedTemplates(templates, project, exampleTemplates);
    const variables = { title: '2 updates', body: '• one\n• two', category: 'digest' };
    const rendered = await templates.render(project, 'digest', 'en', variables);
    expect(rendered?.subject).toBe('Your backline summary: 2 updates');
    expect(rendered?.text).toContain('• one\n• two');
  });
});
