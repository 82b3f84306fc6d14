/**
 * The rules the notification-rules scenario loads the server with, over the bench events
 * (`page.view`, users u0…u999, `props.path` /shows/0…999, `props.ms` 0–500 in steps of 0.1).
 */

/** The stream the threshold rules watch; both servers of the comparison run it. */
export const ruleStream = {
  name: 'rule_views',
  source: { types: ['page.view'] },
  window: { kind: 'tumbling', sizeMs: 10_000 },
  aggregates: [
    { name: 'views', fn: 'count' },
    { name: 'load_ms', fn: 'quantiles', field: 'props.ms', q: [0.95] },
  ],
  emit: { mode: 'early', everyMs: 1000 },
};

export const pingUsers = (n: number) => Array.from({ length: n }, (_, i) => `bench-user-${i}`);

/**
 * In-app throughput: every `burst` event notifies its own user (the bench sends each to a
 * user of its own), over in_app only.
 */
export const burstRule = {
  name: 'burst',
  trigger: { kind: 'event', types: ['burst'] },
  audience: { kind: 'user' },
  notification: { category: 'bench', title: 't', body: 'b', channels: ['in_app'] },
};

/**
 * In-app delivery: every `ping` notifies its own user; `data.event` carries the event's id,
 * so the user's socket can tell which send the notification answers.
 */
export const pingRule = {
  name: 'ping',
  trigger: { kind: 'event', types: ['ping'] },
  audience: { kind: 'user' },
  notification: {
    category: 'bench',
    title: 't',
    body: 'b',
    channels: ['in_app'],
    data: { event: '{{id}}' },
  },
};

// Each predicate is read for every bench event (they all name `page.view`); the bench events
// match few of them: `props.ms` is 500 for about one event in 10,000, the others never.
const wheres = [
  (i: number) => [{ field: 'props.path', op: 'eq', value: `/shows/${1000 + i}` }],
  () => [{ field: 'props.ms', op: 'gte', value: 500 }],
  (i: number) => [{ field: 'props.path', op: 'in', value: [`/promo/${i}`, `/promo/${i + 1}`] }],
  () => [{ field: 'props.coupon', op: 'exists' }],
  (i: number) => [
    { field: 'userId', op: 'eq', value: `u${i}` },
    { field: 'props.ms', op: 'lt', value: 0 },
  ],
];

const notification = { category: 'bench', title: '{{type}} on {{props.path}}', body: 'b' };

/**
 * `n` rules in all: `n − 6` event rules with `where` predicates that rarely match, four
 * thresholds on `rule_views` that never cross, the ping rule and the burst rule.
 */
export function benchRules(n: number): object[] {
  const events = Array.from({ length: n - 6 }, (_, i) => ({
    name: `rare_${i}`,
    trigger: { kind: 'event', types: ['page.view'], where: wheres[i % wheres.length]!(i) },
    audience: { kind: 'user' },
    notification,
  }));
  const bounds = [
    { value: 'views', above: 1e12 },
    { value: 'views', below: 0 },
    { value: 'load_ms.p95', above: 1e6 },
    { value: 'load_ms.p95', below: -1 },
  ];
  const thresholds = bounds.map((bound, i) => ({
    name: `threshold_${i}`,
    trigger: { kind: 'threshold', stream: ruleStream.name, hysteresis: 1, ...bound },
    audience: { kind: 'list', users: ['bench-ops'] },
    notification: { ...notification, title: '{{value}}' },
  }));
  return [...events, ...thresholds, pingRule, burstRule];
}
