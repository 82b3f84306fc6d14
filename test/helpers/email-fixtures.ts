import type { EmailMessage } from '../../src/notify/channels/email/providers.js';
import type { Notification } from '../../src/notify/notification.js';

export const sender = { email: 'shows@backline.example', name: 'Backline Shows' };

/** A rendered email for recipient `i`; the same body for every `i`, as in a campaign. */
export function emailMessage(i: number, fields: Partial<EmailMessage> = {}): EmailMessage {
  return {
    notificationId: `n-${i}`,
    project: 'p1',
    userId: `u${i}`,
    template: 'show-announced',
    to: `fan${i}@example.com`,
    from: sender,
    replyTo: { email: 'help@backline.example' },
    subject: 'A new show',
    html: '<p>A new show</p>',
    text: 'A new show',
    ...fields,
  };
}

/** A notification for the email channel, as the router hands it over. */
export function emailNotification(
  id: string,
  userId: string,
  fields: Partial<Notification> = {},
): Notification {
  return {
    id,
    ts: Date.now(),
    project: 'p1',
    userId,
    rule: 'show-announced',
    category: 'shows',
    title: 'A new show',
    body: 'Doors at eight',
    data: {},
    priority: 'normal',
    dedupKey: undefined,
    channels: ['email'],
    template: undefined,
    variables: {},
    ...fields,
  };
}

/**
 * A v3 `/v3/mail/send` body SendGrid takes: one recipient with backline's header and
 * custom_args, a top-level subject, text then HTML. Tests of the double change one field.
 */
export function mailSendBody(): Record<string, unknown> {
  return {
    personalizations: [
      {
        to: [{ email: 'fan1@example.com', name: 'Fan One' }],
        headers: { 'X-Backline-Notification': 'n-1' },
        custom_args: { notification_id: 'n-1', project: 'p1', user_id: 'u1', template: 't' },
      },
    ],
    from: { email: 'shows@backline.example', name: 'Backline Shows' },
    reply_to: { email: 'help@backline.example' },
    subject: 'A new show',
    content: [
      { type: 'text/plain', value: 'A new show' },
      { type: 'text/html', value: '<p>A new show</p>' },
    ],
    categories: ['show-announced'],
  };
}
