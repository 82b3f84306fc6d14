import { createUnsubscribeLinks } from '../../src/notify/channels/email/unsubscribe-links.js';
import { analyticsCases } from './isolation-cases-analytics.js';

/**
 * What the isolation suite (test/e2e/isolation.test.ts) sends to every route and socket
 * message of the server, aimed at the victim project's data, with credentials of another
 * project and of another user of the victim's project.
 */

/** The victim's data: none of these may reach another project's or another user's caller. */
export const victim = {
  project: 'victim',
  user: 'victim-user-7f3a',
  title: 'VICTIM-TITLE-9c1e',
  category: 'victim-category-2b4d',
  template: 'secret_template_a',
  templateSubject: 'VICTIM-TEMPLATE-5e8f',
  rule: 'secret_rule_a',
  privateStream: 'secret_stream_a',
  /** The private stream's aggregate: in its spec and in every window of it. */
  aggregate: 'victim_agg_3c7d',
  /** Open to the victim project's users: still never to another project. */
  usersStream: 'users_stream_a',
  keyName: 'victim-key-name',
  cohort: 'secret_cohort_a',
  campaign: 'secret_campaign_a',
  job: 'secret_job_a',
  /** The job's description: nobody else sends it, so a listing that shows it leaked. */
  jobNote: 'VICTIM-JOB-NOTE-4b1a',
  /** A visitor who never logged in: analytics name it (breakdowns, members, exports). */
  visitor: 'victim-visitor-8d2e',
};

/** The callers that must not reach the victim's data. */
export type Attacker =
  | 'none'
  | 'otherProjectKey'
  | 'otherProjectJwt'
  | 'otherProjectToken'
  | 'otherUserJwt'
  | 'otherUserToken';

export const attackers: readonly Attacker[] = [
  'none',
  'otherProjectKey',
  'otherProjectJwt',
  'otherProjectToken',
  'otherUserJwt',
  'otherUserToken',
];

export const ofOtherProject = (who: Attacker): boolean => who.startsWith('otherProject');

/**
 * One request at a route, with the victim's names in it. `own` lists the attackers for whom
 * the route acts in their own project or on their own user (another project's admin key
 * defining a stream of that name in its own project; another project's user whose id happens
 * to be the victim's): they may get any answer, as long as it holds none of the victim's data.
 * Everyone else must be refused with 401, 403 or 404.
 */
export interface RouteCase {
  path: string;
  body?: unknown;
  own: readonly Attacker[];
  /** The victim's names this route shows anyone by design (metric labels for the operator). */
  exposes?: readonly string[];
}

const everyone = attackers;
const otherKey: readonly Attacker[] = ['otherProjectKey'];
/** Another project's admin key, or its user whose id is the victim's. */
const otherProject: readonly Attacker[] = [
  'otherProjectKey',
  'otherProjectJwt',
  'otherProjectToken',
];

const stream = {
  window: { kind: 'tumbling', sizeMs: 60_000 },
  aggregates: [{ name: 'n', fn: 'count' }],
};
const user = `/v1/users/${victim.user}`;
/** The victim's unsubscribe link as an attacker could make it: signed with a guessed secret. */
const forgedUnsubscribe = createUnsubscribeLinks({
  baseUrl: 'https://mail.example.test',
  secrets: ['a-guessed-secret-of-32-characters-000001'],
})
  .url({ project: victim.project, userId: victim.user, category: victim.category })
  .slice('https://mail.example.test'.length);

/** Keyed `METHOD pattern`, as the server's route table names each route. */
export function routeCases(ids: {
  notification: string;
  key: string;
  endpoint: string;
  campaign: string;
}) {
  const marks = { ids: [ids.notification] };
  const cases: Record<string, RouteCase> = {
    'GET /healthz': { path: '/healthz', own: everyone },
    'GET /readyz': { path: '/readyz', own: everyone },
    // Stream names are metric labels: /metrics is for the operator's network, not the public.
    'GET /metrics': {
      path: '/metrics',
      own: everyone,
      exposes: [victim.privateStream, victim.usersStream],
    },
    'ANY /*': { path: '/v1/nothing-here', own: everyone },
    'GET /': { path: '/', own: everyone },
    'GET /assets/*': { path: '/assets/nothing.js', own: everyone },
    'GET /v1/push/vapid-public-key': { path: '/v1/push/vapid-public-key', own: everyone },
    'POST /v1/webhooks/sendgrid': { path: '/v1/webhooks/sendgrid', body: [], own: [] },
    // The link is the credential: no key or token opens a link the server did not sign.
    'GET /v1/unsubscribe/:token': { path: forgedUnsubscribe, own: [] },
    'POST /v1/unsubscribe/:token': { path: forgedUnsubscribe, body: {}, own: [] },

    'POST /v1/events': { path: '/v1/events', body: { events: [] }, own: otherKey },
    'GET /v1/events/stats': { path: '/v1/events/stats', own: otherKey },
    'GET /v1/overview': { path: '/v1/overview', own: otherKey },

    'GET /v1/streams': { path: '/v1/streams', own: otherKey },
    // Another project may have a stream, rule or template of the same name: its own.
    'GET /v1/streams/:name': { path: `/v1/streams/${victim.privateStream}`, own: otherKey },
    'GET /v1/streams/:name/windows': {
      path: `/v1/streams/${victim.privateStream}/windows?project=${victim.project}`,
      own: otherKey,
    },
    'GET /v1/streams/:name/rollup': {
      path: `/v1/streams/${victim.privateStream}/rollup?project=${victim.project}`,
      own: otherKey,
    },
    'PUT /v1/streams/:name': {
      path: `/v1/streams/${victim.privateStream}`,
      body: stream,
      own: otherKey,
    },
    'DELETE /v1/streams/:name': { path: `/v1/streams/${victim.usersStream}`, own: otherKey },

    'GET /v1/rules': { path: '/v1/rules', own: otherKey },
    'GET /v1/rules/:name': { path: `/v1/rules/${victim.rule}`, own: otherKey },
    'PUT /v1/rules/:name': { path: `/v1/rules/${victim.rule}`, body: {}, own: otherKey },
    'DELETE /v1/rules/:name': { path: `/v1/rules/${victim.rule}`, own: otherKey },
    'GET /v1/rules/:name/variants': { path: `/v1/rules/${victim.rule}/variants`, own: otherKey },

    'POST /v1/campaigns': {
      path: '/v1/campaigns',
      body: {
        name: victim.campaign,
        audience: { kind: 'list', users: [victim.user] },
        notification: { category: victim.category, title: 'x', body: 'x' },
        sendAt: Date.now() + 86_400_000,
      },
      own: otherKey,
    },
    'GET /v1/campaigns': { path: '/v1/campaigns', own: otherKey },
    // Campaign ids are the project's: another project's key finds none of that id.
    'GET /v1/campaigns/:id': { path: `/v1/campaigns/${ids.campaign}`, own: [] },
    'POST /v1/campaigns/:id/cancel': { path: `/v1/campaigns/${ids.campaign}/cancel`, own: [] },

    'GET /v1/templates': { path: '/v1/templates', own: otherKey },
    'GET /v1/templates/:name': { path: `/v1/templates/${victim.template}`, own: otherKey },
    'PUT /v1/templates/:name': {
      path: `/v1/templates/${victim.template}?locale=en`,
      body: { subject: 'x', html: 'x', text: 'x' },
      own: otherKey,
    },
    'DELETE /v1/templates/:name': {
      path: `/v1/templates/${victim.template}?locale=en`,
      own: otherKey,
    },
    'PUT /v1/templates-layout': {
      path: '/v1/templates-layout',
      body: { html: '{{{content}}}' },
      own: otherKey,
    },

    'POST /v1/keys': { path: '/v1/keys', body: { name: 'k', scopes: ['read'] }, own: otherKey },
    'GET /v1/keys': { path: '/v1/keys', own: otherKey },
    'GET /v1/audit': { path: '/v1/audit', own: otherKey },
    'DELETE /v1/keys/:id': { path: `/v1/keys/${ids.key}`, own: [] },

    'POST /v1/users/:id/token': { path: `${user}/token`, body: {}, own: otherKey },
    'GET /v1/users/:id/preferences': { path: `${user}/preferences`, own: otherProject },
    'PUT /v1/users/:id/preferences': { path: `${user}/preferences`, body: {}, own: otherProject },
    'GET /v1/users/:id/inbox': { path: `${user}/inbox?archived=true`, own: otherProject },
    'POST /v1/users/:id/inbox/read': { path: `${user}/inbox/read`, body: marks, own: otherProject },
    'POST /v1/users/:id/inbox/seen': { path: `${user}/inbox/seen`, body: marks, own: otherProject },
    'POST /v1/users/:id/inbox/archive': {
      path: `${user}/inbox/archive`,
      body: marks,
      own: otherProject,
    },
    'GET /v1/users/:id/decisions': { path: `${user}/decisions`, own: otherProject },
    'DELETE /v1/users/:id': { path: user, own: otherKey },
    'GET /v1/users/:id/export': { path: `${user}/export`, own: otherProject },
    'POST /v1/users/:id/push-subscriptions': {
      path: `${user}/push-subscriptions`,
      body: { endpoint: ids.endpoint, keys: { p256dh: 'x', auth: 'x' } },
      own: otherProject,
    },
    'POST /v1/users/:id/push-clicks': {
      path: `${user}/push-clicks`,
      body: { notificationId: ids.notification },
      own: otherProject,
    },
    'DELETE /v1/users/:id/push-subscriptions': {
      path: `${user}/push-subscriptions`,
      body: { endpoint: ids.endpoint },
      own: otherProject,
    },
    ...analyticsCases(victim, otherKey, otherProject),
  };
  return cases;
}

/** The frames sent on a socket for one message type, aimed at the victim's data. */
export function socketCases(ids: { notification: string }): Record<string, object[]> {
  const marks = { ids: [ids.notification] };
  return {
    '/v1/ingest events': [
      {
        t: 'events',
        seq: 1,
        events: [{ id: 'iso-1', type: 'user.signup', ts: Date.now(), userId: victim.user }],
      },
    ],
    '/v1/live sub': [
      { t: 'sub', id: 'p', stream: victim.privateStream, last: 1000 },
      { t: 'sub', id: 'u', stream: victim.usersStream, last: 1000 },
    ],
    '/v1/live unsub': [{ t: 'unsub', id: 'p' }],
    '/v1/user resume': [{ t: 'resume', after: '0' }],
    '/v1/user read': [{ t: 'read', ...marks }],
    '/v1/user seen': [{ t: 'seen', ...marks }],
    '/v1/user archive': [{ t: 'archive', ...marks }],
  };
}
