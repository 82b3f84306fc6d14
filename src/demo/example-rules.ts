import { ruleSpecSchema, type RuleSpec } from '../rules/rule-spec.js';

const artistFollows = {
  follow: { types: ['artist.follow'], entity: 'props.artistId' },
  unfollow: { types: ['artist.unfollow'], entity: 'props.artistId' },
};

const day = 86_400_000;

/**
 * The development project's notification rules, from the live-music app backline grew out
 * of, one per kind of audience and campaign, so that `npm start -- --demo` fills the demo
 * user's inbox (`demo-fan`, see src/demo/demo-fan.ts) within a minute. Every channel is
 * allowed: the router picks in-app while the user has the dashboard open. The email
 * templates they name are in src/demo/example-templates.ts.
 */
export const exampleRules: RuleSpec[] = [
  {
    name: 'welcome',
    trigger: { kind: 'event', types: ['user.signup'] },
    audience: { kind: 'user' },
    notification: {
      category: 'welcome',
      template: 'welcome',
      title: 'Welcome to backline, {{props.name}}',
      body: 'Follow an artist to hear when they play near you.',
      // Once per user, however often they sign up again.
      dedupKey: 'welcome',
    },
  },
  {
    name: 'show_reminder',
    trigger: {
      kind: 'schedule',
      types: ['show.scheduled'],
      at: { field: 'props.startsAt', offsetMs: -3600_000 },
    },
    audience: { kind: 'followers', entity: 'props.artistId', ...artistFollows },
    notification: {
      category: 'reminders',
      template: 'show-reminder',
      title: '{{props.artistName}} plays in 1 hour',
      body: 'Doors open at {{props.venue}}.',
      data: { showId: '{{props.showId}}', artistId: '{{props.artistId}}' },
      priority: 'high',
      dedupKey: 'reminder/{{props.showId}}',
    },
  },
  {
    // The demo's busiest show gets about 300 votes a minute, the others about 130 or fewer.
    name: 'hot_show',
    trigger: {
      kind: 'threshold',
      stream: 'votes_per_show',
      value: 'votes',
      above: 150,
      hysteresis: 30,
    },
    // Whoever voted on the show in the last 10 minutes.
    audience: {
      kind: 'segment',
      types: ['vote.cast'],
      where: [{ field: 'props.showId', op: 'eq', value: '{{key}}' }],
      sinceMs: 600_000,
    },
    notification: {
      category: 'trending',
      title: '{{key}} is on fire',
      body: '{{value}} votes this minute. Your vote counts!',
      data: { showId: '{{key}}', votes: '{{value}}' },
    },
  },
  {
    // Low priority, so users with `digest: "hourly" | "daily"` get the week's recaps in one
    // summary (template `digest`); the others get each one as it comes.
    name: 'weekly_summary',
    trigger: { kind: 'event', types: ['show.recap'] },
    audience: { kind: 'followers', entity: 'props.artistId', ...artistFollows },
    notification: {
      category: 'summary',
      template: 'weekly-summary',
      title: '{{props.artistName}} at {{props.venue}}: the recap',
      body: '{{props.summary}}',
      data: { showId: '{{props.showId}}', url: '{{props.url}}' },
      priority: 'low',
      dedupKey: 'recap/{{props.showId}}',
    },
  },
  {
    // Everyone with any event in the last 30 days: the active users, not every account.
    name: 'newsletter',
    trigger: { kind: 'event', types: ['newsletter.publish'] },
    audience: { kind: 'segment', sinceMs: 30 * day },
    notification: {
      category: 'newsletter',
      template: 'newsletter',
      title: '{{props.subject}}',
      body: '{{props.teaser}}',
      data: { issue: '{{props.issue}}', url: '{{props.url}}' },
      dedupKey: 'newsletter/{{props.issue}}',
    },
  },
].map((spec) => ruleSpecSchema.parse(spec));
