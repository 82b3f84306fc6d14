import {
  defaultLocale,
  type EmailTemplate,
  type EmailTemplates,
} from '../notify/channels/email/templates.js';

/** One locale's variant of a template, ready to store. */
export interface ExampleTemplate {
  id: string;
  locale: string;
  template: EmailTemplate;
}

const en = (id: string, template: EmailTemplate): ExampleTemplate => ({
  id,
  locale: defaultLocale,
  template,
});

/**
 * The email side of the example rules (src/demo/example-rules.ts), one per campaign. The
 * placeholders are the rule's variables: the triggering event's fields (`{{props.x}}`), the
 * rendered `{{title}}` and `{{body}}`, `{{userId}}` the recipient, and the rule's `data`
 * keys. `digest` is the router's summary of a digest user's low-priority notifications
 * (src/notify/digests.ts): its body lists one line per item.
 */
export const exampleTemplates: readonly ExampleTemplate[] = [
  en('welcome', {
    subject: 'Welcome to backline, {{props.name}}',
    html:
      '<h1>Welcome, {{props.name}}!</h1>\n' +
      '<p>Follow an artist and we will tell you when they play near you.</p>',
    text: 'Welcome, {{props.name}}!\n\nFollow an artist and we will tell you when they play near you.',
  }),
  en('show-reminder', {
    subject: '{{props.artistName}} plays in 1 hour',
    html:
      '<h1>{{props.artistName}} plays in 1 hour</h1>\n' +
      '<p>Doors open at {{props.venue}}. See you in front of the stage.</p>',
    text: '{{props.artistName}} plays in 1 hour.\n\nDoors open at {{props.venue}}.',
  }),
  en('weekly-summary', {
    subject: '{{title}}',
    html: '<h1>{{title}}</h1>\n<p>{{body}}</p>\n<p><a href="{{props.url}}">Read the recap</a></p>',
    text: '{{title}}\n\n{{body}}\n\nRead the recap: {{props.url}}',
  }),
  en('digest', {
    subject: 'Your backline summary: {{title}}',
    html: '<h1>Your summary: {{title}}</h1>\n<pre>{{body}}</pre>',
    text: 'Your summary: {{title}}\n\n{{body}}',
  }),
  en('newsletter', {
    subject: '{{props.subject}}',
    html:
      '<h1>{{props.subject}}</h1>\n<p>{{props.teaser}}</p>\n' +
      '<p><a href="{{props.url}}">Read issue {{props.issue}}</a></p>',
    text: '{{props.subject}}\n\n{{props.teaser}}\n\nRead issue {{props.issue}}: {{props.url}}',
  }),
];

/**
 * Stores each example template that the project does not have yet in that locale, so an
 * operator's edits (through `PUT /v1/templates/:name`) survive restarts. Answers the ids
 * written.
 *
 * @example
 * await seedTemplates(createEmailTemplates(state), 'dev', exampleTemplates); // ['welcome', …] the first time
 */
export async function seedTemplates(
  templates: Pick<EmailTemplates, 'get' | 'put'>,
  project: string,
  examples: readonly ExampleTemplate[],
): Promise<string[]> {
  const written: string[] = [];
  for (const { id, locale, template } of examples) {
    if (await templates.get(project, id, locale)) continue;
    await templates.put(project, id, locale, template);
    written.push(id);
  }
  return written;
}
