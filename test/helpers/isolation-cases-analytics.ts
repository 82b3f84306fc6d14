import type { Attacker, RouteCase } from './isolation-cases.js';

/** The victim's names the analytics cases aim at (isolation-cases.ts holds them all). */
interface Victim {
  project: string;
  user: string;
  cohort: string;
  job: string;
}

/**
 * Analytics: answers over the caller's own project only (its events, cohorts). Breakdowns by
 * `anonymousId` name the victim's visitor, whom no attacker ever sends (the victim's user id
 * is in earlier paths, so it would be excused as echoed).
 */
export function analyticsCases(
  victim: Victim,
  otherKey: readonly Attacker[],
  otherProject: readonly Attacker[],
): Record<string, RouteCase> {
  const cohort = `/v1/cohorts/${victim.cohort}`;
  const steps = encodeURIComponent(JSON.stringify([{ type: 'vote' }, { type: 'vote' }]));
  const anyTime = `project=${victim.project}&from=${Date.now() - 86_400_000}&to=${Date.now() + 3600_000}`;
  return {
    'GET /v1/analytics/trends': {
      path: `/v1/analytics/trends?breakdown=anonymousId&${anyTime}`,
      own: otherKey,
    },
    'GET /v1/analytics/funnels': {
      path: `/v1/analytics/funnels?steps=${steps}&breakdown=anonymousId&${anyTime}`,
      own: otherKey,
    },
    'GET /v1/analytics/retention': { path: `/v1/analytics/retention?${anyTime}`, own: otherKey },
    'GET /v1/cohorts': { path: '/v1/cohorts', own: otherKey },
    'GET /v1/cohorts/:name': { path: cohort, own: otherKey },
    'GET /v1/cohorts/:name/members': { path: `${cohort}/members`, own: otherKey },
    'PUT /v1/cohorts/:name': {
      path: cohort,
      body: { conditions: [{ kind: 'performed', types: ['vote'] }] },
      own: otherKey,
    },
    'DELETE /v1/cohorts/:name': { path: cohort, own: otherKey },
    'GET /v1/analytics/engagement': {
      path: `/v1/analytics/engagement?${anyTime}`,
      own: otherKey,
    },
    'GET /v1/analytics/engagement/users': {
      path: `/v1/analytics/engagement/users?${anyTime}`,
      own: otherKey,
    },
    'GET /v1/analytics/stickiness': { path: `/v1/analytics/stickiness?${anyTime}`, own: otherKey },
    'GET /v1/analytics/persons/:id': {
      path: `/v1/analytics/persons/${victim.user}`,
      own: otherKey,
    },
    // Another project's caller gets its own project's hour for that id (the victim's is theirs).
    'GET /v1/users/:id/send-hour': {
      path: `/v1/users/${victim.user}/send-hour`,
      own: otherProject,
    },
    'GET /v1/trending': { path: `/v1/trending?entity=props.by&${anyTime}`, own: otherKey },
    ...jobCases(victim, otherKey),
    ...predictionCases(victim, otherKey, otherProject),
    'GET /v1/export/events': { path: `/v1/export/events?format=csv&${anyTime}`, own: otherKey },
  };
}

/**
 * Predictions: another project's callers reach their own project's models only (none: 404
 * NO_MODEL), whatever user or person they name.
 */
function predictionCases(
  victim: Victim,
  otherKey: readonly Attacker[],
  otherProject: readonly Attacker[],
): Record<string, RouteCase> {
  return {
    'GET /v1/users/:id/recommendations': {
      path: `/v1/users/${victim.user}/recommendations`,
      own: otherProject,
    },
    'GET /v1/predictions/churn/:id': {
      path: `/v1/predictions/churn/${victim.user}`,
      own: otherKey,
    },
    'GET /v1/predictions/forecasts': { path: '/v1/predictions/forecasts', own: otherKey },
    'GET /v1/predictions/models': { path: '/v1/predictions/models', own: otherKey },
  };
}

/** Warehouse jobs: the victim's job has run, so its rows name the victim's visitor. */
function jobCases(victim: Victim, otherKey: readonly Attacker[]): Record<string, RouteCase> {
  const job = `/v1/jobs/${victim.job}`;
  return {
    'GET /v1/jobs': { path: '/v1/jobs', own: otherKey },
    'GET /v1/jobs/:name': { path: job, own: otherKey },
    'PUT /v1/jobs/:name': { path: job, body: { kind: 'daily_users', days: 2 }, own: otherKey },
    'DELETE /v1/jobs/:name': { path: job, own: otherKey },
    'POST /v1/jobs/:name/run': { path: `${job}/run`, own: otherKey },
    'GET /v1/jobs/:name/rows': { path: `${job}/rows?format=csv`, own: otherKey },
  };
}
