import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createMemoryBus } from '../../../src/cluster/memory-bus.js';
import { createMemoryPresence } from '../../../src/cluster/memory-presence.js';
import { createSendRecords } from '../../../src/notify/channels/email/send-records.js';
import { createSendGridProvider } from '../../../src/notify/channels/email/sendgrid-provider.js';
import { createSuppressions } from '../../../src/notify/channels/email/suppressions.js';
import { createEmailTemplates } from '../../../src/notify/channels/email/templates.js';
import { openChannels, type ChannelDeps } from '../../../src/notify/channels/index.js';
import { createOutboundUrlGuard } from '../../../src/notify/channels/web-push/outbound-url.js';
import { createPushSubscriptions } from '../../../src/notify/channels/web-push/push-subscriptions.js';
import { loadVapidKeys } from '../../../src/notify/channels/web-push/vapid.js';
import { createPreferences } from '../../../src/notify/preferences.js';
import { createMemoryStateStore } from '../../../src/state/memory-state-store.js';
import { sender } from '../../helpers/email-fixtures.js';

const state = createMemoryStateStore();
const deps: ChannelDeps = {
  inApp: { bus: createMemoryBus(), presence: createMemoryPresence() },
  webPush: {
    subscriptions: createPushSubscriptions(state),
    vapid: loadVapidKeys(mkdtempSync(join(tmpdir(), 'backline-vapid-'))),
    endpoints: createOutboundUrlGuard({}, {}),
  },
  email: undefined,
};

it('opens in-app and web push, and email only when a provider and sender are set', () => {
  expect([...openChannels(deps)].map(([name, channel]) => [name, channel.name])).toEqual([
    ['in_app', 'in_app'],
    ['web_push', 'web_push'],
  ]);
  const email = {
    templates: createEmailTemplates(state),
    preferences: createPreferences(state),
    suppressions: createSuppressions(state),
    records: createSendRecords(state),
    provider: createSendGridProvider({ apiKey: 'SG.unused' }, { baseUrl: 'http://127.0.0.1:9' }),
    from: sender,
  };
  expect([...openChannels({ ...deps, email }).keys()]).toEqual(['in_app', 'web_push', 'email']);
});
