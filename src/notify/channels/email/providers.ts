import type { SendResult } from '../../channel.js';

export interface EmailAddress {
  email: string;
  name?: string;
}

/** One rendered email for one recipient, as a provider sends it. */
export interface EmailMessage {
  /** Carried to the provider (SendGrid `custom_args`, SMTP header) so webhooks map back. */
  notificationId: string;
  project: string;
  userId: string;
  /** Template id: SendGrid category and header, `props.template` of tracking events. */
  template: string;
  to: string;
  from: EmailAddress;
  replyTo?: EmailAddress;
  subject: string;
  html: string;
  text: string;
  /** Headers of this message alone (`List-Unsubscribe`), beside the provider's own. */
  headers?: Record<string, string>;
  /**
   * The recipient's own unsubscribe link, which `html` and `text` may show: a provider that
   * substitutes per recipient (SendGrid) sends one body for many recipients.
   */
  unsubscribeUrl?: string;
}

/**
 * `delivered`: the provider accepted the message (detail names the provider); `failed`: it
 * refused it for good (a 400, a 5xx SMTP reply); `retry`: try later (429, 5xx, network),
 * with the provider's Retry-After as `afterMs` when it gave one.
 */
export type ProviderResult = SendResult;

/**
 * A way to hand emails to the outside world. `send` answers one result per message, in
 * order, and never throws for a message's or the provider's fault. SendGrid and SMTP
 * implement it; `createFailover` puts one behind the other.
 */
export interface EmailProvider {
  readonly name: string;
  send(messages: readonly EmailMessage[]): Promise<ProviderResult[]>;
  /** Releases connections (SMTP pool); a provider without any need not implement it. */
  close?(): Promise<void>;
}
