import type { EmailDouble } from './email-doubles.js';
import type { ServerSettings } from './server-process.js';

/** The segment's event: one per recipient, seeded before the campaign. */
export const eventType = 'newsletter.optin';

/** The campaign's email template, stored over HTTP before the campaign. */
export const template = {
  name: 'newsletter',
  parts: {
    subject: '{{title}}',
    html:
      '<h1>{{title}}</h1>\n<p>{{body}}</p>\n' +
      '<p><a href="{{unsubscribeUrl}}">Unsubscribe from {{category}}</a></p>',
    text: '{{title}}\n\n{{body}}\n\nUnsubscribe: {{unsubscribeUrl}}',
  },
};

/**
 * The server of the campaign: one project whose key administers it, email through the
 * double alone, with every email carrying its RFC 8058 unsubscribe link (an HMAC per
 * recipient) as bulk senders must. The email rate limit (default 500/s) and the key's
 * request budget (1,000/s after a burst of 20,000: seeding makes 100,000 calls) are raised
 * out of the way, so the campaign's own pace and the provider are what is measured.
 */
export function campaignSettings(double: Pick<EmailDouble, 'settings'>): ServerSettings {
  return {
    limits: { keyRequestsPerSecond: 1_000_000, keyBurstRequests: 1_000_000 },
    project: {},
    email: {
      from: { email: 'news@backline.example', name: 'backline' },
      unsubscribe: { baseUrl: 'https://backline.example' },
      rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
      ...double.settings,
    },
  };
}

/** `POST /v1/campaigns`: everyone with a segment event in the last day, now, over email. */
export function campaignSpec(ratePerSecond: number): object {
  return {
    name: 'bench_newsletter',
    audience: { kind: 'segment', types: [eventType], sinceMs: 86_400_000 },
    notification: {
      category: 'newsletter',
      title: 'This week on backline',
      body: 'Ten new shows, two festivals and the venues that just opened.',
      channels: ['email'],
      template: template.name,
    },
    ratePerSecond,
  };
}
